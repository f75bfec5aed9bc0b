// Package imagetest is `make test-image`: the A/B update chain booted for
// real in qemu-system-arm. Its test builds a bootable ARMv7 disk image to
// flash's layout from Debian's armhf packages (the armmp kernel,
// busybox-static) and Debian's U-Boot for qemu, with the cross-built
// callboxd and the system prompts spoken as the image build speaks them
// (in the slot's /usr/share/callbox/prompts), buildroot/'s boot script and
// environment, and genimage; then it boots it, waits for the web admin and
// SIP through qemu's user networking, sees the box find its prompts
// through the API, installs a bundle into slot B through the web API, reboots
// into it and sees it marked good, installs a bundle whose callboxd exits
// at start and sees the box come back by itself, and cuts the power at
// random moments of installs, checking every time that a good slot boots
// with the data partition intact. The serial console is kept with every
// line stamped by the time since qemu started, and each boot's phases
// (U-Boot, kernel, initramfs and mounts, callboxd to the store, to the web
// admin, to the slot marked good) are logged with the results.
//
// The test runs only with CALLBOX_IMAGE_TEST=1 and CALLBOX_IMAGE_DEBS set
// to a directory holding the armhf .deb files (the make target fetches
// them with apt-get download).
package imagetest
