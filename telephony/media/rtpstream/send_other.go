//go:build !linux

package rtpstream

import "net"

// newSender returns the socket itself where no non-blocking send is
// implemented (the board runs Linux; this keeps other builds working).
func newSender(c *net.UDPConn) (writer, error) { return c, nil }
