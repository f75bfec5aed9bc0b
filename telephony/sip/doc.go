// Package sip is the box's SIP side on github.com/emiago/sipgo: a registrar
// for the extensions (digest authentication, several contacts, OPTIONS
// keepalive), outbound registration of trunks with back-off (reconfigured
// live with SetTrunks), and call legs (UAS and UAC INVITE, early media,
// hold by re-INVITE, BYE, CANCEL, INFO digits and REFER transfers), each a
// state machine with one owner goroutine (see Leg), that the switch drives
// through Leg and observes through the CallHandler interface it implements.
//
// The package consumes its surroundings through interfaces it defines
// (Directory, Clock, RTPAllocator, CallHandler) and never imports the
// board, the store or the web layer.
package sip
