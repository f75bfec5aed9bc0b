package ivr

import (
	"errors"

	"callbox/telephony/calendar"
)

// CalendarSource finds the business calendars a time branch names;
// telephony/ccconf's configuration implements it.
type CalendarSource interface {
	// Calendar returns the calendar with the name, or false.
	Calendar(name string) (*calendar.Calendar, bool)
}

type fieldErr struct{ field, msg string }

// compileSchedule compiles a time branch's literal hours.
func compileSchedule(tb *TimeBranch) (*calendar.Calendar, *fieldErr) {
	c, err := calendar.New(tb.spec())
	if err != nil {
		var ce *calendar.Error
		if errors.As(err, &ce) {
			return nil, &fieldErr{ce.Field, ce.Msg()}
		}
		return nil, &fieldErr{"hours", err.Error()}
	}
	return c, nil
}
