package ivr

import (
	"context"
	"os"
	"reflect"
	"testing"
	"time"
)

func loadExample(t testing.TB, name string) *Flow {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return mustParse(t, string(data))
}

// TestExampleDayNight walks callers through the shipped day/night flow.
func TestExampleDayNight(t *testing.T) {
	repo := &Repository{}
	if _, err := repo.Save(loadExample(t, "daynight.json")); err != nil {
		t.Fatal(err)
	}
	cst := time.FixedZone("CST", 8*3600)
	day := time.Date(2026, 11, 18, 10, 0, 0, 0, cst)    // Wednesday
	night := time.Date(2026, 11, 18, 21, 0, 0, 0, cst)  // Wednesday evening
	holiday := time.Date(2026, 10, 2, 10, 0, 0, 0, cst) // National Day week
	makeUp := time.Date(2026, 9, 27, 10, 0, 0, 0, cst)  // Sunday worked (调休)
	crm := "http://127.0.0.1:8088/crm/customer?phone="
	tests := []struct {
		name   string
		at     time.Time
		caller string
		call   scriptedCall
		answer map[string]string
		end    End
		log    []string
	}{
		{
			name: "day, CRM says VIP: VIP queue", at: day, caller: "13900000001",
			answer: map[string]string{crm + "13900000001": `{"customer":{"level":"vip","name":"王五"}}`},
			call:   scriptedCall{queue: QueueOutcome{Served: true}},
			end:    EndQueued,
			log:    []string{"play queue-thankyou", "queue type=vip"},
		},
		{
			name: "day, CRM down: menu, support", at: day, caller: "13900000002",
			call: scriptedCall{script: []string{"2"}, queue: QueueOutcome{Served: true}},
			end:  EndQueued,
			log:  []string{"play hello", "play basic-pbx-ivr-main", "keys 2", "play queue-thankyou", "queue group=2"},
		},
		{
			name: "day, sales queue overflows to voicemail", at: makeUp, caller: "13900000003",
			answer: map[string]string{crm + "13900000003": `{"customer":{"level":"normal"}}`},
			call:   scriptedCall{script: []string{"1"}, queue: QueueOutcome{Reason: "timeout"}},
			end:    EndVoicemail,
			log: []string{"play hello", "play basic-pbx-ivr-main", "keys 1", "play queue-thankyou", "queue group=1",
				"voicemail 8000", "hangup"},
		},
		{
			name: "day, silent caller reaches the operator", at: day, caller: "13900000004",
			call: scriptedCall{},
			end:  EndTransferred,
			log: []string{"play hello", "play basic-pbx-ivr-main", "keys ", "play please-try-again",
				"play basic-pbx-ivr-main", "keys ", "play please-try-again", "play basic-pbx-ivr-main", "keys ",
				"transfer 8000"},
		},
		{
			name: "night, balance lookup", at: night, caller: "13900000005",
			answer: map[string]string{"http://127.0.0.1:8088/billing/balance?account=1234567": `{"balance":"88.50"}`},
			call:   scriptedCall{script: []string{"2", "1234567#"}},
			end:    EndHangup,
			log: []string{"say 现在是非工作时间。留言请按1, 查询账户余额请按2。", "keys 2",
				"say 请输入您的账号, 以井号键结束。", "keys 1234567", "say 您的账户余额为 88.50 元。",
				"play goodbye", "hangup"},
		},
		{
			name: "holiday, voicemail", at: holiday, caller: "13900000006",
			call: scriptedCall{script: []string{"1"}},
			end:  EndVoicemail,
			log:  []string{"say 现在是非工作时间。留言请按1, 查询账户余额请按2。", "keys 1", "voicemail 8000", "hangup"},
		},
		{
			name: "night, voicemail fails: the flow's error node apologises", at: night, caller: "13900000007",
			call: scriptedCall{script: []string{"1"}, vmErr: os.ErrNotExist},
			end:  EndHangup,
			log: []string{"say 现在是非工作时间。留言请按1, 查询账户余额请按2。", "keys 1", "voicemail 8000",
				"play sorry-youre-having-problems", "hangup"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &Engine{Flows: repo, Clock: fixedClock(tt.at), HTTP: &fakeFetcher{answers: tt.answer}}
			call := tt.call
			res, err := e.Run(context.Background(), &call, Request{Flow: "daynight", Caller: tt.caller})
			if err != nil {
				t.Fatal(err)
			}
			if res.End != tt.end || !reflect.DeepEqual(call.log, tt.log) {
				t.Errorf("end %v (want %v)\n got %q\nwant %q", res.End, tt.end, call.log, tt.log)
			}
		})
	}
}

// TestExampleSurveyAndVerify runs the survey flow and the agent's
// identity check flow.
func TestExampleSurveyAndVerify(t *testing.T) {
	repo := &Repository{}
	for _, name := range []string{"survey.json", "verify.json"} {
		if _, err := repo.Save(loadExample(t, name)); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC)
	e := &Engine{Flows: repo, Clock: fixedClock(now)}

	// A low rating leads to a recorded complaint.
	call := &scriptedCall{script: []string{"2"}}
	res, _ := e.Run(context.Background(), call, Request{Flow: "survey"})
	want := []SurveyAnswer{{Flow: "survey", Node: "overall", Question: "satisfaction", Rating: 2, Rated: true, At: now}}
	if !reflect.DeepEqual(res.Surveys, want) || res.Vars["complaint"] != "rec-1" || res.End != EndHangup {
		t.Errorf("low rating: %+v vars %v end %v", res.Surveys, res.Vars, res.End)
	}
	// A good rating goes straight to thanks.
	call = &scriptedCall{script: []string{"5"}}
	res, _ = e.Run(context.Background(), call, Request{Flow: "survey"})
	if res.Surveys[0].Rating != 5 || res.Vars["complaint"] != "" || call.log[len(call.log)-2] != "play auth-thankyou" {
		t.Errorf("good rating: %+v %q", res.Surveys, call.log)
	}

	// The agent sends the caller to verify; the CRM confirms; the caller
	// comes back to the agent with the answer in the variables.
	f := &fakeFetcher{answers: map[string]string{"http://127.0.0.1:8088/crm/verify": `{"ok":true}`}}
	e.HTTP = f
	call = &scriptedCall{script: []string{"12345X", "123456"}}
	res, _ = e.Run(context.Background(), call, Request{Flow: "verify", Caller: "13900000008", Agent: "1001"})
	if res.End != EndReturned || res.Vars["verified"] != "true" || call.log[len(call.log)-1] != "agent 1001" {
		t.Errorf("verify: end %v vars %v actions %q", res.End, res.Vars, call.log)
	}
	if len(f.got) != 1 || string(f.got[0].Body) != `{"id_tail":"123456","phone":"13900000008"}` {
		t.Errorf("verify request %+v", f.got)
	}
}
