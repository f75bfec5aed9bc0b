//go:build !linux

package main

import (
	"context"
	"errors"
	"time"
)

type wire struct{}

type wireInvite struct {
	at          time.Time
	from, agent string
}

func startWire(context.Context, int) (*wire, error) {
	return nil, errors.New("ccbench: the wire's times need Linux")
}

func (*wire) stop() []wireInvite { return nil }
