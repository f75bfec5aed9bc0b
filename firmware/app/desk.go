package app

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"callbox/telephony/acd"
	"callbox/telephony/cc"
	"callbox/telephony/region"
	"callbox/webui"
)

// deskWeb adapts the running call-centre service to the agent workbench
// (webui.Desk). It asks for the service at each call because a restart
// makes a new one.
type deskWeb struct{ a *App }

func (d deskWeb) svc() (*cc.Service, error) {
	svc, _ := d.a.CallCentre()
	if svc == nil {
		return nil, fmt.Errorf("%w: %w", webui.ErrDeskUnavailable, errNoCallCentre)
	}
	return svc, nil
}

// AgentLine is the agent's figures with the call it is rung for (from the
// waiting list) or serving (from the services in progress).
func (d deskWeb) AgentLine(ctx context.Context, agent string) (webui.AgentLine, error) {
	svc, err := d.svc()
	if err != nil {
		return webui.AgentLine{}, err
	}
	figs, err := svc.Figures(ctx)
	if err != nil {
		return webui.AgentLine{}, deskError(err)
	}
	i := slices.IndexFunc(figs.Agents, func(a cc.AgentFigure) bool { return string(a.Agent) == agent })
	if i < 0 {
		return webui.AgentLine{}, fmt.Errorf("%w: agent %s", webui.ErrNotFound, agent)
	}
	af := figs.Agents[i]
	line := webui.AgentLine{
		Agent: agent, Name: af.Name, State: af.State.String(), Reason: af.Reason, Since: af.Since,
		Device: af.Device.String(), Registered: !af.DeviceDown, Answered: af.Answered, TalkTime: af.TalkTime,
	}
	eng := svc.ACD()
	if af.State == acd.Ringing {
		if j := slices.IndexFunc(figs.Waiting, func(w acd.WaitingCall) bool { return w.Call == af.Call }); j >= 0 {
			w := figs.Waiting[j]
			line.Call = deskCall(eng, string(w.Call), w.Number, w.Group)
			line.Call.Ringing, line.Call.Since = true, af.Since
		}
		return line, nil
	}
	services, err := svc.Services(ctx)
	if err != nil {
		return webui.AgentLine{}, deskError(err)
	}
	if j := slices.IndexFunc(services, func(si cc.ServiceInfo) bool { return string(si.Agent) == agent }); j >= 0 {
		si := services[j]
		line.Call = deskCall(eng, si.Call, si.Number, si.Group)
		line.Call.Since, line.Call.Held, line.Call.Recorded, line.Call.Outbound = si.Since, si.Held, si.Recorded, si.Outbound
	}
	return line, nil
}

// deskCall is the screen-pop of a number: its region, group and customer
// type as the ACD classifies it.
func deskCall(eng *acd.Engine, id, number string, group int) *webui.DeskCall {
	c := &webui.DeskCall{ID: id, Number: number}
	switch info := region.Lookup(number); {
	case info.Kind == region.Mobile:
		c.Mobile = true
	case info.Known:
		c.Region, c.RegionEN = info.Area.Name("zh"), info.Area.Name("en")
	}
	groups := eng.Config().Groups
	if k := slices.IndexFunc(groups, func(g acd.Group) bool { return g.ID == group }); k >= 0 {
		c.Group = groups[k].Name
	}
	t, _ := eng.Classify(number, "")
	c.CustomerType = t.Name
	return c
}

func (d deskWeb) Login(ctx context.Context, agent, device string) error {
	svc, err := d.svc()
	if err != nil {
		return err
	}
	return deskError(svc.Login(ctx, acd.AgentID(agent), cc.Device{Extension: device}))
}

func (d deskWeb) Logout(ctx context.Context, agent string) error {
	svc, err := d.svc()
	if err != nil {
		return err
	}
	return deskError(svc.Logout(ctx, acd.AgentID(agent)))
}

func (d deskWeb) SetState(ctx context.Context, agent, state, reason string) error {
	svc, err := d.svc()
	if err != nil {
		return err
	}
	st, err := acd.ParseState(state)
	if err != nil || st != acd.Idle && st != acd.Break && st != acd.Busy {
		return fmt.Errorf("%w: state %q", webui.ErrInvalid, state)
	}
	return deskError(svc.SetState(ctx, acd.AgentID(agent), st, reason, agent))
}

func (d deskWeb) WrapUpDone(ctx context.Context, agent string) error {
	svc, err := d.svc()
	if err != nil {
		return err
	}
	return deskError(svc.WrapUpDone(ctx, acd.AgentID(agent)))
}

func (d deskWeb) CallOp(ctx context.Context, agent, op, arg string) error {
	svc, err := d.svc()
	if err != nil {
		return err
	}
	id := acd.AgentID(agent)
	switch op {
	case webui.DeskHold:
		// Hold toggles: a second click must not take the caller back.
		services, err := svc.Services(ctx)
		if err != nil {
			return deskError(err)
		}
		if slices.ContainsFunc(services, func(si cc.ServiceInfo) bool { return si.Agent == id && si.Held }) {
			return fmt.Errorf("%w: already on hold", webui.ErrDeskRefused)
		}
		err = svc.Hold(ctx, id)
		return deskError(err)
	case webui.DeskResume:
		return deskError(svc.Resume(ctx, id))
	case webui.DeskHangup:
		return deskError(svc.HangupCaller(ctx, id))
	case webui.DeskTransfer:
		// As *2 on the phone: a work number is the agent, anything else
		// what the dial plan makes of it.
		t := cc.Target{Kind: cc.ToNumber, Number: arg}
		if _, err := svc.ACD().Agent(acd.AgentID(arg)); err == nil {
			t = cc.Target{Kind: cc.ToAgent, Agent: acd.AgentID(arg)}
		}
		return deskError(svc.Transfer(ctx, id, t, false))
	case webui.DeskDTMF:
		return deskError(svc.SendDTMF(ctx, id, arg))
	case webui.DeskRecord:
		return deskError(svc.Record(ctx, id, arg == "on"))
	}
	return fmt.Errorf("%w: operation %q", webui.ErrInvalid, op)
}

func (d deskWeb) Dial(ctx context.Context, agent, number string) error {
	svc, err := d.svc()
	if err != nil {
		return err
	}
	_, err = svc.Dial(ctx, acd.AgentID(agent), number, "")
	return deskError(err)
}

// deskError gives the call centre's refusals the sentinels webui words.
func deskError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, acd.ErrUnknownAgent), errors.Is(err, cc.ErrUnknownAgent):
		return fmt.Errorf("%w: %w", webui.ErrNotFound, err)
	case errors.Is(err, acd.ErrEngaged), errors.Is(err, acd.ErrBadState), errors.Is(err, cc.ErrRefused),
		errors.Is(err, cc.ErrNotInCall), errors.Is(err, cc.ErrNoCall):
		return fmt.Errorf("%w: %w", webui.ErrDeskRefused, err)
	case errors.Is(err, cc.ErrClosed):
		return fmt.Errorf("%w: %w", webui.ErrDeskUnavailable, err)
	}
	return err
}
