// Package crmtest makes synthetic customers for the record packages'
// benchmarks and the import figures: Chinese names drawn from common
// surnames and given-name characters, companies, addresses and mobile or
// landline numbers, reproducible from the seed.
package crmtest

import (
	"fmt"
	"math/rand/v2"

	"callbox/telephony/crm"
)

// Synthetic customers for benchmarks and figures: Chinese names drawn from
// common surnames and given-name characters, companies, addresses and
// mobile or landline numbers, reproducible from the seed.
var (
	synthSurnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
	synthGiven    = []rune("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕丹建国建华志强志明海燕文杰晓东晓明俊峰宇航浩然子涵欣怡梓萱雨桐思远天佑嘉怡")
	synthCities   = []string{"南京", "苏州", "无锡", "常州", "扬州", "镇江", "南通", "泰州", "盐城", "淮安", "宿迁", "连云港", "徐州"}
	synthAreas    = []string{"025", "0512", "0510", "0519", "0514", "0511", "0513", "0523", "0515", "0517", "0527", "0518", "0516"}
	synthTrades   = []string{"电器", "机械", "纺织", "建材", "物流", "食品", "化工", "科技", "商贸", "电子", "医药", "印务"}
	synthRoads    = []string{"中山路", "解放路", "人民路", "建设路", "和平路", "长江路", "新华路", "光明路", "朝阳路", "胜利路"}
)

// Customer returns a synthetic customer in category cat.
func Customer(r *rand.Rand, cat uint64) crm.Customer {
	given := string(synthGiven[r.IntN(len(synthGiven))])
	if r.IntN(3) > 0 {
		given += string(synthGiven[r.IntN(len(synthGiven))])
	}
	city := r.IntN(len(synthCities))
	c := crm.Customer{
		Category: cat,
		Name:     string(synthSurnames[r.IntN(len(synthSurnames))]) + given,
		Address:  fmt.Sprintf("%s市%s%d号%d室", synthCities[city], synthRoads[r.IntN(len(synthRoads))], 1+r.IntN(300), 101+r.IntN(1500)),
	}
	if r.IntN(2) == 0 {
		c.Company = fmt.Sprintf("%s%s%s有限公司", synthCities[city], string(synthGiven[r.IntN(len(synthGiven))]), synthTrades[r.IntN(len(synthTrades))])
	}
	c.Phones = []crm.Phone{{Number: fmt.Sprintf("1%d%09d", 3+r.IntN(7), r.IntN(1e9))}}
	if r.IntN(3) == 0 {
		c.Phones = append(c.Phones, crm.Phone{Number: fmt.Sprintf("%s%08d", synthAreas[city], 20000000+r.IntN(7e7)), Label: "office"})
	}
	return c
}

// Row is c as an import row: name, numbers (";"-separated), company,
// address.
func Row(c crm.Customer) []string {
	nums := ""
	for i, p := range c.Phones {
		if i > 0 {
			nums += ";"
		}
		nums += p.Number
	}
	return []string{c.Name, nums, c.Company, c.Address}
}

// Header is the header of Row's columns, as a file would name them.
var Header = []string{"姓名", "电话", "公司", "地址"}

// Rows returns a header and n rows; every badEvery-th row (0: none) has a
// number that does not parse.
func Rows(seed uint64, n, badEvery int) [][]string {
	r := rand.New(rand.NewPCG(seed, seed+1))
	out := [][]string{Header}
	for i := range n {
		row := Row(Customer(r, 0))
		if badEvery > 0 && i%badEvery == badEvery-1 {
			row[1] = "13x" + row[1][3:]
		}
		out = append(out, row)
	}
	return out
}
