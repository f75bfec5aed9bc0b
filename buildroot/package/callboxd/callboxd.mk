################################################################################
#
# callboxd
#
################################################################################

# The source is the tree around this BR2_EXTERNAL.
CALLBOXD_VERSION = $(call qstrip,$(BR2_PACKAGE_CALLBOXD_VERSION))
CALLBOXD_SITE = $(BR2_EXTERNAL_CALLBOX_PATH)/..
CALLBOXD_SITE_METHOD = local
CALLBOXD_LICENSE = Proprietary
CALLBOXD_GOMOD = callbox

CALLBOXD_BUILD_TARGETS = firmware/cmd/callboxd firmware/cmd/callboxctl
CALLBOXD_INSTALL_BINS = callboxd callboxctl
# gin's optional codecs are not served by the box (see the size notes in
# the top-level README).
CALLBOXD_TAGS = nomsgpack

CALLBOXD_OTA_PUBKEY = $(call qstrip,$(BR2_PACKAGE_CALLBOXD_OTA_PUBKEY))
CALLBOXD_LDFLAGS = -s -w -X callbox/firmware/version.Version=$(CALLBOXD_VERSION)
ifneq ($(CALLBOXD_OTA_PUBKEY),)
CALLBOXD_LDFLAGS += -X callbox/firmware/ota.BuildKey=$(shell base64 -w0 < $(CALLBOXD_OTA_PUBKEY))
endif

define CALLBOXD_INSTALL_BOARD_NAME
	mkdir -p $(TARGET_DIR)/etc/callbox
	echo $(call qstrip,$(BR2_PACKAGE_CALLBOXD_BOARD)) > $(TARGET_DIR)/etc/callbox/board-name
	echo $(CALLBOXD_VERSION) > $(TARGET_DIR)/etc/callbox/version
endef
CALLBOXD_POST_INSTALL_TARGET_HOOKS += CALLBOXD_INSTALL_BOARD_NAME

$(eval $(golang-package))
