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

# The system prompts are spoken at build time (they are never kept as
# audio in the source) by callboxctl built for the build machine, with the
# build machine's espeak-ng (Debian: apt-get install espeak-ng), into the
# root filesystem, where callboxd looks for them and where an update brings
# new ones.
CALLBOXD_PROMPTS_DIR = $(TARGET_DIR)/usr/share/callbox/prompts

define CALLBOXD_INSTALL_PROMPTS
	@command -v espeak-ng >/dev/null || { \
		echo "callboxd: the system prompts are spoken with espeak-ng on the build machine: install it (Debian: apt-get install espeak-ng)"; \
		exit 1; }
	cd $(@D) && $(HOST_GO_HOST_ENV) $(GO_BIN) build -tags $(CALLBOXD_TAGS) -o $(@D)/callboxctl-build-host ./firmware/cmd/callboxctl
	$(@D)/callboxctl-build-host prompts generate --out $(CALLBOXD_PROMPTS_DIR)
endef
CALLBOXD_POST_INSTALL_TARGET_HOOKS += CALLBOXD_INSTALL_PROMPTS

$(eval $(golang-package))
