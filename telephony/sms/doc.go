// Package sms sends and receives text messages through a GSM/4G modem on
// a serial port: the PDU codec (3GPP TS 23.040 and 23.038: GSM 7-bit with
// its extension table, UCS-2 for Chinese, long messages split with a
// concatenation header and joined again, delivery reports), the AT
// command driver (modem.go) and the outbox (outbox.go), which keeps every
// queued message in a store it defines and marks a part sent only once the
// modem answered +CMGS.
package sms
