package prompt

import (
	"strconv"
	"time"
)

// The sayings compose what the box says from the small system prompts of
// each language: they return prompt names for Catalogue.Compose. Each
// language uses only its own pieces (system.tsv).
//
// Conventions: zh reads a number as a quantity with 十/百/千/万/亿 and 零 for
// the zeros inside it (1005: 一千零五, 10: 十), 两 for a 2 before 百, 千, 万
// or 亿 that leads its section of four digits (两百, 两千二百, 一万两千) and
// for a count of two (两分钟, 两条); a digit string (a work number
// such as 1088, a telephone number) is read digit by digit with 1 as 幺
// (幺零八八), as Chinese call centres and operators read numbers, so 1 and 7
// are not confused. en reads numbers as "one thousand eighty-eight" without
// "and", and digit strings digit by digit ("one zero eight eight").

// MaxNumber is the largest integer the sayings read out (zh needs 亿, en
// "million"): larger numbers are read digit by digit.
const MaxNumber = 999_999_999

func num(n int) string { return "num/" + strconv.Itoa(n) }

// Number says a non-negative integer as a quantity ("一千零五", "one
// thousand five").
func Number(n int, lang string) []string {
	lang = sayLang(lang)
	if n < 0 || n > MaxNumber {
		return Digits(strconv.Itoa(max(n, -n)), lang)
	}
	if lang == English {
		return numberEN(n, nil)
	}
	return numberZH(n, false)
}

// Count says how many of something: like Number, except that zh says 两
// for a lone 2 (两分钟, 两条新留言).
func Count(n int, lang string) []string {
	if n == 2 && sayLang(lang) == Chinese {
		return []string{"num/2-liang"}
	}
	return Number(n, lang)
}

// Digits says a string's digits one by one (zh reads 1 as 幺); other
// characters are skipped.
func Digits(s string, lang string) []string {
	lang = sayLang(lang)
	out := make([]string, 0, len(s))
	for _, c := range s {
		switch {
		case c == '1' && lang == Chinese:
			out = append(out, "num/1-yao")
		case c >= '0' && c <= '9':
			out = append(out, num(int(c-'0')))
		}
	}
	return out
}

// Position says a caller's place in the queue: "you are number 3 in the
// queue" (您现在排在第三位); the first is "you are next in line".
func Position(n int, lang string) []string {
	if n <= 1 {
		return []string{"queue/first"}
	}
	out := []string{"queue/position"}
	out = append(out, Number(n, lang)...)
	return append(out, "queue/position-end")
}

// Wait says the estimated waiting time: "the estimated waiting time is 3
// minutes" (see Duration).
func Wait(d time.Duration, lang string) []string {
	return append([]string{"queue/wait"}, Duration(d, lang)...)
}

// Duration says a duration in whole minutes, rounded up, with hours from
// 60 minutes on; under a minute it is "less than one minute".
func Duration(d time.Duration, lang string) []string {
	lang = sayLang(lang)
	if d < time.Minute {
		return []string{"time/less-than-minute"}
	}
	mins := int((d + time.Minute - 1) / time.Minute)
	var out []string
	if h := mins / 60; h > 0 {
		out = append(out, Count(h, lang)...)
		out = append(out, unit(h, "hour", lang))
	}
	if m := mins % 60; m > 0 {
		out = append(out, Count(m, lang)...)
		out = append(out, unit(m, "minute", lang))
	}
	return out
}

// unit names a time unit: en has a singular, zh one word.
func unit(n int, u, lang string) string {
	if n == 1 && lang == English {
		return "time/" + u
	}
	return "time/" + u + "s"
}

// Agent introduces the agent who answers: "agent 1088 at your service"
// (1088 号客服代表为您服务), the work number read digit by digit.
func Agent(workNumber string, lang string) []string {
	lang = sayLang(lang)
	var out []string
	if lang == English {
		out = append(out, "agent/before")
	}
	out = append(out, Digits(workNumber, lang)...)
	return append(out, "agent/serve")
}

// Messages says how many new voicemail messages there are: "you have 2 new
// messages" (您有两条新留言), or "you have no new messages".
func Messages(n int, lang string) []string {
	lang = sayLang(lang)
	if n <= 0 {
		return []string{"vm/no-messages"}
	}
	out := append([]string{"vm/you-have"}, Count(n, lang)...)
	if n == 1 && lang == English {
		return append(out, "vm/new-message")
	}
	return append(out, "vm/new-messages")
}

// sayLang is the catalogue language of a tag, zh-CN for an unknown one.
func sayLang(lang string) string {
	if l, err := Lang(lang); err == nil {
		return l
	}
	return Chinese
}

// numberEN appends n (0 to MaxNumber) in English.
func numberEN(n int, out []string) []string {
	switch {
	case n < 20:
		return append(out, num(n))
	case n < 100:
		out = append(out, num(n/10*10))
		if n%10 != 0 {
			out = append(out, num(n%10))
		}
		return out
	}
	for _, g := range []struct {
		size int
		name string
	}{{1_000_000, "num/1000000"}, {1000, "num/1000"}, {100, "num/100"}} {
		if n >= g.size {
			out = numberEN(n/g.size, out)
			out = append(out, g.name)
			if n%g.size != 0 {
				out = numberEN(n%g.size, out)
			}
			return out
		}
	}
	return out
}

// numberZH says n (0 to MaxNumber) in Chinese: sections of four digits
// joined by 亿 and 万. inner is set for a section after a larger one.
func numberZH(n int, inner bool) []string {
	if n == 0 {
		return []string{"num/0"}
	}
	var out []string
	for _, g := range []struct {
		size int
		name string
	}{{100_000_000, "num/100000000"}, {10_000, "num/10000"}} {
		if n >= g.size {
			hi := n / g.size
			if hi == 2 {
				out = append(out, "num/2-liang")
			} else {
				out = append(out, numberZH(hi, inner)...)
			}
			out = append(out, g.name)
			n %= g.size
			if n == 0 {
				return out
			}
			if n < g.size/10 {
				out = append(out, "num/0") // 一万零五百
			}
			inner = true
		}
	}
	return append(out, sectionZH(n, inner)...)
}

// sectionZH says 1 to 9999: 千, 百, 十 and units, one 零 for the zeros
// between digits, none after the last. A section that starts a number and
// is 10 to 19 drops the 一 of 一十 (十五); inside a number it keeps it (一百一十).
func sectionZH(n int, inner bool) []string {
	var out []string
	digits := [4]int{n / 1000, n / 100 % 10, n / 10 % 10, n % 10}
	units := [4]string{"num/1000", "num/100", "num/10", ""}
	started, zero := false, false
	for i, d := range digits {
		if d == 0 {
			zero = started
			continue
		}
		if zero {
			out = append(out, "num/0")
			zero = false
		}
		switch {
		case i == 2 && d == 1 && !started && !inner:
			// 十, not 一十, at the start of a number
		case d == 2 && i < 2 && !started:
			out = append(out, "num/2-liang") // 两百, 两千; 一千二百
		default:
			out = append(out, num(d))
		}
		if units[i] != "" {
			out = append(out, units[i])
		}
		started = true
	}
	return out
}
