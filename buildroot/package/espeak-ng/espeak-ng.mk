################################################################################
#
# espeak-ng
#
################################################################################

# Upstream Buildroot packages only the older eSpeak (package/espeak), whose
# voices lack the Mandarin pinyin voice callboxd uses (cmn-latn-pinyin).
ESPEAK_NG_VERSION = 1.51
ESPEAK_NG_SITE = $(call github,espeak-ng,espeak-ng,$(ESPEAK_NG_VERSION))
ESPEAK_NG_LICENSE = GPL-3.0+
ESPEAK_NG_LICENSE_FILES = COPYING
# The GitHub archive has no configure script; automake also wants the
# files upstream's autogen.sh makes before it runs.
ESPEAK_NG_AUTORECONF = YES
define ESPEAK_NG_GNU_FILES
	touch $(@D)/AUTHORS
	ln -sf CHANGELOG.md $(@D)/NEWS
	ln -sf README.md $(@D)/README
endef
ESPEAK_NG_POST_PATCH_HOOKS += ESPEAK_NG_GNU_FILES
HOST_ESPEAK_NG_POST_PATCH_HOOKS += ESPEAK_NG_GNU_FILES
ESPEAK_NG_INSTALL_STAGING = NO
ESPEAK_NG_DEPENDENCIES = host-espeak-ng

# No audio output (callboxd reads --stdout), and none of the optional
# libraries: the binary needs only libc.
ESPEAK_NG_CONF_OPTS = \
	--with-pcaudiolib=no \
	--with-sonic=no \
	--with-async=no \
	--with-mbrola=no \
	--with-speechplayer=no \
	--with-extdict-ru=no \
	--with-extdict-cmn=no \
	--with-extdict-yue=no \
	--disable-rpath
HOST_ESPEAK_NG_CONF_OPTS = $(ESPEAK_NG_CONF_OPTS)

# Compiling the voice data runs espeak-ng itself, so the target's data
# comes from the host build of the same version: the target build makes
# only the library and the program.
define ESPEAK_NG_BUILD_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D) src/libespeak-ng.la src/espeak-ng
endef

# The voices callboxd speaks with (en, cmn-latn-pinyin) and what every
# voice needs; the other languages' dictionaries would take some 10 MiB
# of each slot.
ESPEAK_NG_DICTS = en cmn

define ESPEAK_NG_INSTALL_TARGET_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D) DESTDIR=$(TARGET_DIR) install-exec
	rm -rf $(TARGET_DIR)/usr/share/espeak-ng-data
	mkdir -p $(TARGET_DIR)/usr/share/espeak-ng-data
	cp -a $(HOST_DIR)/share/espeak-ng-data/phon* \
		$(HOST_DIR)/share/espeak-ng-data/intonations \
		$(HOST_DIR)/share/espeak-ng-data/lang \
		$(HOST_DIR)/share/espeak-ng-data/voices \
		$(TARGET_DIR)/usr/share/espeak-ng-data/
	$(foreach d,$(ESPEAK_NG_DICTS),\
		cp -a $(HOST_DIR)/share/espeak-ng-data/$(d)_dict $(TARGET_DIR)/usr/share/espeak-ng-data/$(sep))
endef

$(eval $(autotools-package))
$(eval $(host-autotools-package))
