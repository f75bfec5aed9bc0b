package workorder

import (
	"reflect"
	"slices"

	"callbox/telephony/crm/kv"
)

// The built-in lifecycles' ids.
const (
	LifecycleRepair  = "repair"
	LifecycleEnquiry = "enquiry"
	LifecycleGeneral = "general"
)

// CodeComplaint is the category code of the complaint orders a revisit
// opens.
const CodeComplaint = "complaint"

var yesNo = []string{"是", "否"}

// builtinLifecycles are the seed's flows (seed 004, the 95598 desk).
func builtinLifecycles() []Lifecycle {
	return []Lifecycle{
		{
			ID: LifecycleRepair, Name: "故障报修", Initial: "accepted",
			States: []State{
				{ID: "accepted", Name: "已受理"}, {ID: "dispatched", Name: "已派工"}, {ID: "on_site", Name: "正在现场抢修"},
				{ID: "repaired", Name: "抢修完成"}, {ID: "replied", Name: "已回复客户"}, {ID: "revisited", Name: "已回访"},
				{ID: "closed", Name: "已关闭", Final: true},
			},
			Steps: []Step{
				{ID: "dispatch", Name: "派工", From: []string{"accepted"}, To: "dispatched", Who: []string{WhoAssignee, "supervisor"},
					Fields: []FieldDef{
						{Key: "crew", Label: "抢修人员", Type: FieldText, Required: true},
						{Key: "crew_phone", Label: "抢修人员电话", Type: FieldPhone},
						{Key: "vehicle", Label: "抢修车辆", Type: FieldText},
						{Key: "time", Label: "派工时间", Type: FieldDateTime, Required: true},
					}},
				{ID: "arrive", Name: "到达现场", From: []string{"dispatched"}, To: "on_site", Who: []string{WhoAssignee, "supervisor"},
					Fields: []FieldDef{
						{Key: "time", Label: "到达现场时间", Type: FieldDateTime, Required: true},
						{Key: "ownership", Label: "产权", Type: FieldChoice, Choices: []string{"供电公司", "客户", "不明"}},
						{Key: "situation", Label: "现场情况", Type: FieldTextArea},
					}},
				{ID: "repair", Name: "抢修完成", From: []string{"on_site"}, To: "repaired", Who: []string{WhoAssignee, "supervisor"},
					Fields: []FieldDef{
						{Key: "time", Label: "完成时间", Type: FieldDateTime, Required: true},
						{Key: "result", Label: "完成情况", Type: FieldTextArea, Required: true},
						{Key: "opinion", Label: "客户意见", Type: FieldTextArea},
					}},
				{ID: "reply", Name: "回复客户", From: []string{"repaired"}, To: "replied", Who: []string{WhoCreator, "supervisor"},
					Fields: []FieldDef{{Key: "reply", Label: "回复内容", Type: FieldTextArea, Required: true}}},
				{ID: "redispatch", Name: "再次派工", From: []string{"replied"}, To: "dispatched", Who: []string{WhoCreator, "supervisor"},
					Fields: []FieldDef{
						{Key: "opinion", Label: "客户意见", Type: FieldTextArea, Required: true},
						{Key: "crew", Label: "抢修人员", Type: FieldText, Required: true},
						{Key: "crew_phone", Label: "抢修人员电话", Type: FieldPhone},
						{Key: "vehicle", Label: "抢修车辆", Type: FieldText},
					}},
				{ID: "revisit", Name: "满意度回访", From: []string{"replied"}, To: "revisited", Who: []string{"supervisor"},
					Fields: []FieldDef{
						{Key: "satisfaction", Label: "满意度", Type: FieldChoice, Choices: []string{"满意", "基本满意", "不满意"}, Required: true},
						{Key: "notes", Label: "回访内容", Type: FieldTextArea},
						{Key: "complaint", Label: "投诉内容", Type: FieldTextArea},
					},
					Opens: &Opens{When: "complaint", Category: CodeComplaint}},
				{ID: "close", Name: "关闭", From: []string{"revisited"}, To: "closed", Who: []string{"supervisor"}},
			},
		},
		{
			ID: LifecycleEnquiry, Name: "咨询查询", Initial: "closed",
			States: []State{{ID: "closed", Name: "已处理完毕", Final: true}},
		},
		{
			ID: LifecycleGeneral, Name: "受理处理", Initial: "accepted",
			States: []State{{ID: "accepted", Name: "已受理"}, {ID: "handled", Name: "已处理"}, {ID: "closed", Name: "已关闭", Final: true}},
			Steps: []Step{
				{ID: "handle", Name: "处理", From: []string{"accepted"}, To: "handled", Who: []string{WhoAssignee, "supervisor"},
					Fields: []FieldDef{{Key: "result", Label: "处理意见", Type: FieldTextArea, Required: true}}},
				{ID: "close", Name: "回复并关闭", From: []string{"handled"}, To: "closed", Who: []string{WhoCreator, "supervisor"},
					Fields: []FieldDef{{Key: "reply", Label: "回复客户", Type: FieldTextArea}}},
			},
		},
	}
}

// upgradeRepair gives a stored repair flow its crew's phone (the field
// added since) when the flow is still the one shipped before it, as the
// administrator left it untouched; a changed one stays as it is.
func upgradeRepair(tx kv.Tx) error {
	var stored Lifecycle
	found, err := kv.GetJSON(tx, BucketMeta, kv.Key{metaLifecycle}.Str(LifecycleRepair), &stored)
	if err != nil || !found {
		return err
	}
	cur := builtinLifecycles()[0]
	old := cur
	old.Steps = slices.Clone(cur.Steps)
	for i, st := range old.Steps {
		old.Steps[i].Fields = slices.DeleteFunc(slices.Clone(st.Fields), func(f FieldDef) bool { return f.Key == "crew_phone" })
	}
	if !reflect.DeepEqual(stored, old) {
		return nil
	}
	return kv.PutJSON(tx, BucketMeta, kv.Key{metaLifecycle}.Str(LifecycleRepair), cur)
}

// builtinCategory is a 大类 with its 小类.
type builtinCategory struct {
	cat  Category
	subs []Category
}

func builtinCategories() []builtinCategory {
	return []builtinCategory{
		{Category{Name: "用户信息查询", Lifecycle: LifecycleEnquiry, Descriptions: []string{"查询电量电费", "查询业务办理进度", "查询故障工单"}},
			[]Category{{Name: "电量电费查询"}, {Name: "业务办理进度查询"}, {Name: "故障工单查询"}}},
		{Category{Name: "信息咨询", Lifecycle: LifecycleEnquiry, Descriptions: []string{"咨询电价", "咨询停电信息", "咨询业务办理手续"}},
			[]Category{{Name: "电价咨询"}, {Name: "停电信息咨询"}, {Name: "业务办理咨询"}}},
		{Category{Name: "故障报修", Lifecycle: LifecycleRepair,
			Fields: []FieldDef{
				{Key: "place", Label: "地点分类", Type: FieldChoice, Choices: []string{"城区", "农村", "特殊边远地区"}, Required: true},
				{Key: "bureau", Label: "所属供电局", Type: FieldText, Required: true},
				{Key: "fault", Label: "故障名称", Type: FieldText},
				{Key: "address", Label: "故障地址", Type: FieldText, Required: true},
				{Key: "wide", Label: "大面积停电", Type: FieldChoice, Choices: yesNo},
				{Key: "scope", Label: "故障范围", Type: FieldText},
				{Key: "reply", Label: "需要回复客户", Type: FieldChoice, Choices: yesNo},
			},
			Descriptions: []string{"客户家中停电", "小区停电", "线路断落", "电表故障", "电压不稳", "计量装置损坏"}},
			[]Category{{Name: "低压故障"}, {Name: "高压故障"}, {Name: "计量装置故障"}}},
		{Category{Name: "用电业务受理", Lifecycle: LifecycleGeneral, Descriptions: []string{"申请新装", "申请增容", "申请过户"}},
			[]Category{{Name: "新装增容"}, {Name: "过户更名"}, {Name: "电表校验"}}},
		{Category{Name: "投诉举报建议", Lifecycle: LifecycleGeneral},
			[]Category{{Name: "投诉", Code: CodeComplaint}, {Name: "举报"}, {Name: "建议"}, {Name: "表扬"}}},
	}
}

// Seed ships the built-in lifecycles and categories into an empty store,
// once: a store that has any lifecycle is left as it is, so what the
// administrator changed or removed stays so.
func (s *Service) Seed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.Update(func(tx kv.Tx) error {
		seeded := false
		if err := tx.Each(BucketMeta, []byte{metaLifecycle}, func(k, v []byte) error { seeded = true; return errFull }); err != nil && err != errFull {
			return err
		}
		if seeded {
			return upgradeRepair(tx)
		}
		for _, l := range builtinLifecycles() {
			if err := l.Validate(); err != nil {
				return err
			}
			if err := kv.PutJSON(tx, BucketMeta, kv.Key{metaLifecycle}.Str(l.ID), l); err != nil {
				return err
			}
		}
		for _, b := range builtinCategories() {
			if err := s.saveCategory(tx, &b.cat); err != nil {
				return err
			}
			for _, sub := range b.subs {
				sub.Parent = b.cat.ID
				if err := s.saveCategory(tx, &sub); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
