// Package flash will own the partition layout, the signed update bundle
// format, and A/B slot and boot-environment handling used by OTA updates.
package flash
