//go:build ignore

// gen_common writes common.txt, the list of secrets Check refuses as
// common: words hand-picked from the published top-password compilations
// (the RockYou and "10k most common" style lists, Chinese site leaks
// summarised in public reports) and the default passwords of PBX and VoIP
// equipment, plus the shapes people type without thinking, generated
// here: keyboard walks and keypad patterns. Check also refuses these with
// digits or symbols around them and in leetspeak, so the list holds the
// cores, not every "password123!".
//
// Run: go generate ./telephony/sip/secret
package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// Hand-picked: passwords seen at the top of public lists, by kind.
var picked = []string{
	// The perennial top of every list.
	`123456 password 12345678 qwerty 123456789 12345 1234 111111 1234567 dragon
	123123 baseball abc123 football monkey letmein 696969 shadow master 666666
	qwertyuiop 123321 mustang 1234567890 michael 654321 superman 1qaz2wsx 7777777
	121212 000000 qazwsx 123qwe killer trustno1 jordan jennifer zxcvbnm asdfgh
	hunter buster soccer harley batman andrew tigger sunshine iloveyou 2000
	charlie robert thomas hockey ranger daniel starwars klaster 112233 george
	computer michelle jessica pepper 1111 zxcvbn 555555 11111111 131313 freedom
	777777 pass maggie 159753 aaaaaa ginger princess joshua cheese amanda summer
	love ashley nicole chelsea biteme matthew access yankees 987654321 dallas
	austin thunder taylor matrix mobilemail mom monitor monitoring montana moon
	moscow william corvette hello martin heather secret fucker merlin diamond
	1234qwer gfhjkm hammer silver 222222 88888888 anthony justin test bailey
	q1w2e3r4t5 patrick internet scooter orange 11111 golfer cookie richard
	samantha bigdog guitar jackson whatever mickey chicken sparky snoopy maverick
	phoenix camaro peanut morgan welcome falcon cowboy ferrari samsung andrea
	smokey steelers joseph mercedes dakota arsenal eagles melissa boomer booboo
	spider nascar monster tigers yellow xxxxxx 123123123 gateway marina diablo
	bulldog qwer1234 compaq purple hardcore banana junior hannah 123654 porsche
	lakers iceman money cowboys 987654 london tennis 999999 ncc1701 coffee
	scooby 0000 miller boston q1w2e3r4 brandon yamaha chester mother forever
	johnny edward 333333 oliver redsox player nikita knight fender barney
	midnight please brandy chicago badboy slayer rangers charles angel flower
	bigdaddy rabbit wizard jasper enter rachel chris steven winner adidas
	victoria natasha 1q2w3e4r jasmine winter prince panties marine ghbdtn
	fishing cocacola casper james 232323 raiders 888888 marlboro gandalf asdfasdf
	crystal 87654321 12344321 golden 8675309 panther lauren angela bitch spanky
	thx1138 angels madison winston shannon mike toyota jordan23 canada sophie
	apples dick tiger razz 123abc pokemon qazxsw 55555 qwaszx muffin johnson
	murphy cooper jonathan liverpoo david danielle 159357 jackie 1990 123456a
	789456 turtle horny abcd1234 scorpion qazwsxedc 101010 butter carlos password1
	dennis slipknot qwerty123 booger asdf 1991 black startrek 12341234 cameron
	newyork rainbow nathan john 1992 rocket viking redskins asdfghjkl 1212 sierra
	peaches gemini doctor wilson sandra helpme qwertyui victor florida dolphin
	pookie captain tucker blue liverpool theman bandit dolphins maddog packers
	jaguar lovers nicholas united tiffany maxwell zzzzzz nirvana jeremy suckit
	stupid porn monica elephant giants jackass hotdog rosebud success debbie
	mountain 444444 xxxxxxxx warrior 1q2w3e4r5t q1w2e3 123456q albert metallic
	lucky azerty 7777 shithead alex bond007 alexis 1111111 samson 5150 willie
	scorpio bonnie gators benjamin voodoo driver dexter 2112 jason calvin
	freddy 212121 creative 12345a sydney rush2112 1989 asdfghjk red123 bubba
	4815162342 passw0rd trouble gunner happy loving gordon legend jessie stella
	qwert eminem arthur apple nissan bullshit bear america 1qazxsw2 nothing
	parker 4444 rebecca qweqwe garfield 01012011 beavis 69696969 jack asdasd
	december 2222 102030 252525 11223344 magic apollo skippy 315475 girls kitten
	golf copper braves shelby godzilla beaver fred tomcat august buddy airborne
	1993 1988 lifehack qqqqqq brooklyn animal platinum phantom online xavier
	darkness blink182 power fish green 789456123 voyager police travis 12qwaszx
	heaven snowball lover abcdef 00000 pakistan 007007 walter playboy blazer
	cricket sniper hooters donkey willow loveme saturn therock redwings bigboy
	pumpkin trinity williams tinkerbell nintendo destiny topgun spiderman
	admin administrator root toor guest default changeme changeit welcome1
	letmein1 trustno1 login passpass password123 p@ssw0rd qwerty1 iloveyou1
	princess1 sunshine1 football1 monkey1 shadow1 master1 abc12345 zaq12wsx
	zaq1zaq1 zaq1xsw2 1qaz2wsx3edc qwerty12 qwerty1234 aa123456 a123456
	a1234567 a12345678 a123456789 abc123456 woaini woaini1314 5201314 1314520
	520520 5211314 1314521 584520 7758521 7758258 woaiwojia wodemima mima
	mima123 iloveu 147258369 147258 369258147 741852963 963852741 321321
	123654789 987456321 1472583690 qq123456 qq123 qqqqqqqq 123456aa 112233445566
	zhongguo beijing shanghai shenzhen guangzhou hangzhou chengdu nanjing wuhan
	tianjin xiamen dalian qingdao zhangsan lisi wangwu zhaoliu wangwei liwei
	zhangwei wangfang liuyang chenjie huanghe changjiang zhongguoren aini
	aiwoma woaini520 nihao nihao123 xiaoming xiaohong xiaoqiang dabao baobao
	baobei laogong laopo gege jiejie meimei didi haha hehe xixi qianqian
	tiantian yangyang xiaoyu xiaobai xiaohei xiaolong feifei lili nana jingjing
	wangyang zhangyu liudehua jaychou zhoujielun dengziqi kobe mingming
	huawei xiaomi lenovo tencent baidu alibaba taobao weixin wechat
	shangdi yeye nainai mama baba pengyou kuaile xingfu pingan jixiang fafa
	facai 168168 518518 888999 666888 886886 123456789a 1234abcd asd123
	asd123456 qwe123 qwe123456 zxc123 zxc123456 1qaz 2wsx 3edc
	hello123 hello1234 welcome123 test123 test1234 testing demo demo123 user
	user123 support service manager operator agent supervisor office company
	business network system server internet wireless cisco juniper huawei123
	sip voip asterisk freepbx elastix issabel fusionpbx freeswitch yealink
	polycom grandstream snom avaya panasonic alcatel siemens mitel linksys
	phone telephone telefon extension callbox callcenter contact hotline
	customer service1 helpdesk reception front frontdesk sales marketing
	account accounting finance billing pbx ippbx gateway1 trunk provider
	secret1 private public mypass mypassword yourpassword nopassword
	qwertz ytrewq asdfg poiuyt lkjhgf mnbvcxz 1password password12 pass1234
	pass123 pass12345 secret123 letmein123 admin123 admin1234 admin12345 root123
	rootroot adminadmin guestguest useruser testtest demodemo 123admin
	0123456789 9876543210 01234567 76543210 1q2w3e 1q2w3e4r5t6y zaqwsx
	qweasd qweasdzxc qweasdzxc123 1qa2ws3ed asdzxc asdqwe zxcasdqwe`,
	// First names and nicknames high in the lists.
	`aaron adam alan albert alexander alice alicia allison amber amy andre
	andy angelo anna annie antonio april ariel arnold austin barbara barry
	becky ben benny bernard beth betty bill billy bob bobby bonnie brad
	bradley brenda brian bridget brittany brooke bruce bryan caitlin carl
	carmen carol caroline carrie cassie catherine cathy cecilia chad charlotte
	cheryl chloe christian christina christine christopher cindy claire
	clara claudia colin connie craig crystal curtis cynthia dan dana daniela
	darren dave dawn dean debra denise derek diana diane donald donna doris
	dorothy doug douglas dustin dylan eddie edgar eileen elaine eleanor elena
	elizabeth ellen emily emma eric erica erik erin ethan eugene eva evan
	frank franklin gabriel gary gerald gina glenn gloria grace greg gregory
	hailey harold harry helen henry holly howard ian isaac isabel ivan jack
	jacob jake jamie jane janet janice jared jean jeff jeffrey jenny jerry
	jesse jill jim jimmy joan joe joel joey jonathan jose josh joyce juan
	judy julia julian julie justine kaitlyn karen kate katherine kathy katie
	keith kelly ken kenneth kevin kim kimberly kyle larry laura lawrence leah
	lee leo leon leslie lily linda lindsay lisa logan lois louis lucas lucy
	luis luke lynn marcus margaret maria marie marilyn mark marvin mary
	matt megan melanie michele miguel mildred molly nancy naomi natalie
	neil nick nina noah norman olivia pamela paul paula peggy peter philip
	phillip rachael ralph randy ray raymond regina rick ricky rita roberta
	robin roger ronald rose ruby russell ruth ryan sabrina sally sam samuel
	sara sarah scott sean shane sharon shawn sheila shirley simon stacy
	stanley stephanie stephen steve stuart susan suzanne sylvia tammy tanya
	teresa terry tim timothy tina todd tom tommy tony tracy troy tyler
	valerie vanessa veronica vincent virginia wanda wayne wendy zachary`,
	// Words: pets, sports, places, things, feelings.
	`abcdefg access14 action adventure airplane alabama alaska alpha amazing
	america1 angel1 apache apple123 april01 arizona army artist asshole
	athena atlanta attack audi autumn avatar babygirl babylon bambam
	barcelona basketball beach beautiful beauty beer benfica berlin bestfriend
	bigmac birdie birthday blackjack blessed blessing blondie blowme bluebird
	blues bmw boogie boots boxer bronco broncos bubbles buffalo bullet
	bulls butterfly cactus california camera cancer candy cannon carolina
	carpet cartman catdog cats celtic champion changeme1 charger charlie1
	cherry chevy china chocolate christ christmas cinder cinderella city
	clover cobra coke colorado columbia cookie1 cool cornell country cowgirl
	crazy cream cupcake dancer dancing darkside death december1 delta denver
	desire diamonds digital dinosaur disney dodgers dollar dragon1 dragons
	dream dreamer dreams eagle eagle1 earth easy edward1 einstein element
	elvis energy england enigma entropy escape europe evolution explorer
	faith family fantasy farmer fashion fire fireball firebird fireman
	flamingo flowers flying football2 forest freak freckles friend friends
	frog frogger fuckyou funny future galaxy gambit game gamer garden gemini1
	genesis ghost gibson gizmo global goblue goddess godfather gold goldfish
	goodluck google gorilla gotohell grandma graphic grateful greenday
	gretzky guitar1 gymnast hallo happy1 happiness harvard hawaii heart
	hearts hellfire hello1 help hermes highland hockey1 holiday hollywood
	home honda honey hope horse hotmail house houston hunter1 hurricane
	icecream indian indigo infinity insane inside intel iron jamaica japan
	jeep jesus jesus1 jewel joker jupiter kangaroo karate kawasaki kelly1
	kermit kill killer1 king kingdom kingkong kitty knicks kristina ladybug
	lakers1 laser lemon letmein2 liberty library light lightning lincoln
	lion lionking little lizard lobster london1 lonely lovely loveyou lucky1
	macintosh madonna magnum malibu mamapapa manchester mandy marathon marley
	mars master1 maximus mayday meatball memory mercury midnight1 miracle
	mister mittens monday monkeys moonlight mother1 motorola music mustang1
	mylove mypass1 mystery naruto nature navy nemesis nevada newcastle
	newlife newport nightmare ninja nokia nothing1 november october ohio
	olympus omega open orange1 oscar outlaw ocean pacific paintball pamela1
	panda panther1 paradise paris party passion password2 patriots peace
	pearl pegasus penguin people pepsi phoenix1 piano picture pink pirate
	pizza planet playstation poison popcorn pretty private1 puppy purple1
	qwerty2 racing radio rain rainbow1 ranger1 raven reality rebel redhead
	redneck remember rocknroll rocky romance rosebud1 rose royal runner
	russia sailor saints sakura salmon samsung1 sandiego saturn1 savage
	school science scorpio1 scotland seattle september serenity sexy shadow2
	shark sharon1 shelby1 sherlock shooter silence silver1 simpsons skater
	skyline slipknot1 smile smiley snake snowman soccer1 softball soldier
	sophia sparrow speedy spencer spirit spring squirrel star stardust
	starlight stars steelers1 sticky storm stormy strawberry student
	sublime sugar summer1 sunflower sunny sunset super surfer sweet
	sweetheart sweetie swimming sydney1 system1 tarzan teacher teddy
	teddybear temple tequila texas thebest theone thunder1 tigers1 titanic
	tomato toyota1 tractor trinity1 trojan truck trumpet turkey turtle1
	twilight unicorn universe usa valentine vampire vegas venus video
	viper volcano volleyball warcraft warriors water welcome2 whatever1
	whisky white wildcat william1 winner1 winter1 wolf wolverine wonder
	woody xbox360 yankee yankees1 yellow1 yoda zombie zxcvbnm1`,
}

// rows and columns of a US/CN keyboard and the phone keypad, walked
// forwards and backwards.
var walks = []string{
	"1234567890-=", "qwertyuiop[]", "asdfghjkl;'", "zxcvbnm,./",
	"1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
	"qazwsxedcrfvtgbyhnujmikolp", "zaqxswcdevfrbgtnhymju",
	"!@#$%^&*()_+", "1q2w3e4r5t6y7u8i9o0p", "q1w2e3r4t5y6u7i8o9p0",
	"qweasdzxc", "147258369", "159753", "741852963", "789456123", "123654789",
}

func main() {
	set := map[string]bool{}
	add := func(w string) {
		w = strings.ToLower(strings.TrimSpace(w))
		if len(w) >= 4 {
			set[w] = true
		}
	}
	for _, block := range picked {
		for _, w := range strings.Fields(block) {
			add(w)
		}
	}
	// Every stretch of 6 to 12 keys along a walk, both ways.
	for _, wk := range walks {
		for _, s := range []string{wk, reverse(wk)} {
			for i := range len(s) {
				for n := 6; n <= 12 && i+n <= len(s); n++ {
					add(s[i : i+n])
				}
			}
		}
	}
	// Doubled short words people make long: "qwerqwer", "asdfasdf".
	for _, wk := range walks[:4] {
		for i := 0; i+4 <= len(wk); i++ {
			add(wk[i:i+4] + wk[i:i+4])
			if i+5 <= len(wk) {
				add(wk[i:i+5] + wk[i:i+5])
			}
		}
	}
	words := make([]string, 0, len(set))
	for w := range set {
		words = append(words, w)
	}
	slices.Sort(words)
	var b strings.Builder
	b.WriteString("# Common secrets that Check refuses (with digits or symbols around them and\n")
	b.WriteString("# in leetspeak too). Generated by gen_common.go from hand-picked words and\n")
	b.WriteString("# keyboard and keypad walks: edit the picks there, then go generate.\n")
	for _, w := range words {
		b.WriteString(w)
		b.WriteByte('\n')
	}
	if err := os.WriteFile("common.txt", []byte(b.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("common.txt: %d entries\n", len(words))
}

func reverse(s string) string {
	b := []byte(s)
	slices.Reverse(b)
	return string(b)
}
