package pinyin

import (
	"strings"
	"testing"
)

func TestSpell(t *testing.T) {
	for _, tc := range []struct {
		in         string
		name       bool
		full, init string
	}{
		{"张三", true, "zhangsan", "zs"},
		{"李四", true, "lisi", "ls"},
		{"曾小贤", true, "zengxiaoxian", "zxx"}, // surname, not ceng
		{"曾经", false, "cengjing", "cj"},      // as a word, the customary reading
		{"单雄信", true, "shanxiongxin", "sxx"}, // surname shan, not dan
		{"欧阳修", true, "ouyangxiu", "oyx"},    // compound surname
		{"重庆市渝中区", false, "chongqingshiyuzhongqu", "cqsyzq"},
		{"中国银行南京分行", false, "zhongguoyinhangnanjingfenxing", "zgyhnjfx"},
		{"ＡＢＣ公司 123", false, "abcgongsi123", "abcgs123"},
		{"Zhang, San", true, "zhangsan", "zhangsan"},
		{"吕", true, "lv", "l"},
		{"", false, "", ""},
	} {
		var got Spelling
		if tc.name {
			got = Name(tc.in)
		} else {
			got = Text(tc.in)
		}
		if got.Full != tc.full || got.Initials != tc.init {
			t.Errorf("%q: got %q/%q, want %q/%q", tc.in, got.Full, got.Initials, tc.full, tc.init)
		}
	}
}

// TestTableCoversCommonCharacters checks the generated table reads every
// character of a sample of common ones (the 3,500 of the first level of
// the 2013 general standard are in U+4E00-U+9FFF; a sample of names,
// places and service words suffices to catch a truncated table).
func TestTableCoversCommonCharacters(t *testing.T) {
	sample := "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤" +
		"北京上海天津南京杭州广州深圳成都武汉西安沈阳哈尔滨长春济南郑州太原合肥福州南昌长沙贵阳昆明南宁海口兰州银川西宁拉萨乌鲁木齐呼和浩特石家庄" +
		"供电局故障报修抢修停电电费咨询投诉建议表扬工单回访满意派工到达现场完成客户服务中心座席号码地址公司备注"
	for _, r := range sample {
		if Of(r) == "" {
			t.Errorf("no reading for %q (%U)", r, r)
		}
	}
	if n := strings.Count(tableText, "\n"); n < 400 {
		t.Fatalf("table has %d syllables, want about 410", n)
	}
}

func FuzzSpell(f *testing.F) {
	for _, s := range []string{"张三", "曾经", "欧阳", "ＡＢ", "\xff\xfe", "单于"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp := Name(s)
		if len(sp.Initials) > len(sp.Full) {
			t.Fatalf("%q: initials %q longer than full %q", s, sp.Initials, sp.Full)
		}
		for i := 0; i < len(sp.Full); i++ {
			c := sp.Full[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
				t.Fatalf("%q: full spelling %q has %q", s, sp.Full, c)
			}
		}
	})
}

func BenchmarkName(b *testing.B) {
	Of('张')
	for b.Loop() {
		Name("欧阳建国")
	}
}
