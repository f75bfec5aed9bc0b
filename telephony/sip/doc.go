// Package sip is the box's SIP side on github.com/emiago/sipgo: a registrar
// for the extensions (digest authentication, several contacts, OPTIONS
// keepalive), outbound registration of trunks with back-off (reconfigured
// live with SetTrunks), and call legs (UAS and UAC INVITE, early media,
// hold by re-INVITE, BYE, CANCEL, INFO digits and REFER transfers), each a
// state machine with one owner goroutine (see Leg), that the switch drives
// through Leg and observes through the CallHandler interface it implements.
//
// Every message passes a guard before sipgo's transaction layer sees it
// (guard.go, tcpguard.go): per-source rate limits and bans, stateless
// answers to OPTIONS and to requests that must authenticate, a budget of
// live server transactions, and for TCP per-source connection caps, idle
// and slow-message timeouts and a size limit. Authentication (auth.go)
// answers alike for existing and unknown users, bans guessing sources,
// locks a guessed extension except for its registered addresses, and logs
// each failure in a line fail2ban reads. Limits sets every bound.
//
// The package consumes its surroundings through interfaces it defines
// (Directory, Clock, RTPAllocator, CallHandler) and never imports the
// board, the store or the web layer.
package sip
