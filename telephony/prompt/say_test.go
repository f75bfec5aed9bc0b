package prompt

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// spoken joins the system texts of a saying's prompts, as a listener hears
// them; a name missing in the language fails the test.
func spoken(t *testing.T, names []string, lang string) string {
	t.Helper()
	parts := make([]string, len(names))
	for i, n := range names {
		p, ok := SystemNamed(n)
		if !ok || p.Text(lang) == "" {
			t.Fatalf("%v: %q is not a %s system prompt", names, n, lang)
		}
		parts[i] = p.Text(lang)
	}
	if lang == English {
		return strings.Join(parts, " ")
	}
	return strings.Join(parts, "")
}

func TestNumber(t *testing.T) {
	zh := map[int]string{
		0: "零", 1: "一", 2: "二", 10: "十", 11: "十一", 15: "十五", 20: "二十", 22: "二十二",
		100: "一百", 101: "一百零一", 110: "一百一十", 111: "一百一十一", 200: "两百", 222: "两百二十二",
		1000: "一千", 1005: "一千零五", 1010: "一千零一十", 1088: "一千零八十八", 2000: "两千", 2200: "两千二百",
		10000: "一万", 10005: "一万零五", 10500: "一万零五百", 12345: "一万两千三百四十五", 20000: "两万",
		100000: "十万", 105000: "十万五千", 110000: "十一万", 1000500: "一百万零五百", 20000000: "两千万",
		100000000: "一亿", 110000000: "一亿一千万", 100100000: "一亿零一十万", 200000000: "两亿",
		999999999: "九亿九千九百九十九万九千九百九十九",
	}
	for n, want := range zh {
		if got := spoken(t, Number(n, Chinese), Chinese); got != want {
			t.Errorf("zh %d: %s, want %s", n, got, want)
		}
	}
	en := map[int]string{
		0: "zero", 5: "five", 13: "thirteen", 20: "twenty", 45: "forty five", 100: "one hundred",
		105: "one hundred five", 1000: "one thousand", 1088: "one thousand eighty eight",
		12345: "twelve thousand three hundred forty five", 1000000: "one million",
		2000500:   "two million five hundred",
		999999999: "nine hundred ninety nine million nine hundred ninety nine thousand nine hundred ninety nine",
	}
	for n, want := range en {
		if got := spoken(t, Number(n, English), English); got != want {
			t.Errorf("en %d: %s, want %s", n, got, want)
		}
	}
	// Beyond the range: digit by digit.
	if got := spoken(t, Number(1234567890, English), English); got != "one two three four five six seven eight nine zero" {
		t.Errorf("en 1234567890: %s", got)
	}
}

// TestSayingsUseOwnPieces checks every saying over many values only uses
// prompts that exist in its language.
func TestSayingsUseOwnPieces(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, lang := range Languages {
		for i := range 3000 {
			n := i
			if i >= 1000 {
				n = rng.IntN(MaxNumber + 1)
			}
			spoken(t, Number(n, lang), lang)
			spoken(t, Count(n, lang), lang)
			spoken(t, Position(n, lang), lang)
			spoken(t, Messages(n, lang), lang)
			spoken(t, Duration(time.Duration(n)*time.Second, lang), lang)
		}
	}
}

func TestSayings(t *testing.T) {
	tests := []struct {
		names []string
		lang  string
		want  string
	}{
		{Count(2, Chinese), Chinese, "两"},
		{Count(2, English), English, "two"},
		{Count(12, Chinese), Chinese, "十二"},
		{Digits("1088", Chinese), Chinese, "幺零八八"},
		{Digits("+86 138", Chinese), Chinese, "八六幺三八"},
		{Digits("1088", English), English, "one zero eight eight"},
		{Position(3, Chinese), Chinese, "您现在排在第三位。"},
		{Position(12, English), English, "You are number twelve in the queue."},
		{Position(1, English), English, "You are next in line."},
		{Wait(90*time.Second, Chinese), Chinese, "预计等待时间为两分钟"},
		{Wait(30*time.Second, English), English, "The estimated waiting time is less than one minute"},
		{Wait(time.Minute, English), English, "The estimated waiting time is one minute"},
		{Duration(61*time.Minute, English), English, "one hour one minute"},
		{Duration(125*time.Minute, Chinese), Chinese, "两小时五分钟"},
		{Duration(120*time.Minute, English), English, "two hours"},
		{Agent("1088", Chinese), Chinese, "幺零八八号客服代表为您服务。"},
		{Agent("1088", English), English, "Agent one zero eight eight at your service."},
		{Messages(2, Chinese), Chinese, "您有两条新留言。"},
		{Messages(1, English), English, "You have one new message."},
		{Messages(0, Chinese), Chinese, "您没有新留言。"},
		{Number(7, "zh"), Chinese, "七"},
		{Number(7, "fr"), Chinese, "七"}, // unknown languages say zh-CN
	}
	for _, tt := range tests {
		if got := spoken(t, tt.names, tt.lang); got != tt.want {
			t.Errorf("%v: %q, want %q", tt.names, got, tt.want)
		}
	}
}
