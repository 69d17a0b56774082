package demo

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tessera/tessera/builder/spec"
)

var (
	surnames   = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢")
	givenNames = []string{"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平", "刚", "桂英", "晓东", "海燕", "建国", "志强", "子涵", "雨欣", "浩然", "思远"}
	cities     = []string{"上海", "杭州", "南京", "苏州", "宁波", "北京", "天津", "广州", "深圳", "武汉", "成都", "西安", "沈阳", "重庆", "合肥", "青岛"}
	trades     = []string{"精密机械", "智能制造", "新材料", "电子科技", "医疗器械", "供应链", "食品", "汽车零部件", "物流", "软件", "教育科技", "零售连锁", "化工", "包装", "环保科技"}
	suffixes   = []string{"有限公司", "股份有限公司", "集团有限公司", "科技有限公司"}
	titles     = []string{"采购经理", "IT 总监", "信息化负责人", "总经理", "副总经理", "运营总监", "CIO", "生产经理", "财务总监", "销售总监"}
	products   = []string{"CRM 标准版", "CRM 专业版", "CRM 旗舰版", "ERP 基础版", "ERP 企业版", "MES 车间版", "MES 工厂版", "数据分析套件", "移动审批", "实施服务（人天）", "年度运维", "培训服务"}
	nextSteps  = []string{"安排产品演示", "发送报价单", "约见决策人", "准备技术方案", "跟进合同条款", "确认预算", "安排现场调研"}
	needs      = []string{"希望统一管理销售线索和客户跟进", "现有 Excel 管理混乱，需要系统化", "需要与 ERP 对接订单数据", "关注移动端审批和报表", "希望缩短报价审批周期"}
	objections = []string{"价格偏高", "担心实施周期", "已有其他系统", "需要老板拍板", "数据迁移顾虑"}
)

// personName is a deterministic Chinese name for the n-th generated person.
func personName(n int) string {
	return string(surnames[n%len(surnames)]) + givenNames[(n*7+n/len(surnames))%len(givenNames)]
}

func (g *gen) pick(list []string) string { return list[g.r.IntN(len(list))] }

func (g *gen) company() string {
	return g.pick(cities) + g.pick([]string{"华", "恒", "瑞", "鼎", "博", "泰", "远", "新", "创", "达"}) + g.pick([]string{"信", "盛", "通", "晟", "源", "拓", "科", "航", "升", "安"}) + g.pick(trades) + g.pick(suffixes)
}

// option picks a select option with skewed weights (the first options of a list are the
// common ones), so charts by the field show a realistic spread.
func (g *gen) option(f *spec.Field) string {
	n := len(f.Options)
	if n == 0 {
		return ""
	}
	// weights 1/(k+1)^0.8
	total := 0.0
	for k := 0; k < n; k++ {
		total += 1 / math.Pow(float64(k+1), 0.8)
	}
	u := g.r.Float64() * total
	for k := 0; k < n; k++ {
		u -= 1 / math.Pow(float64(k+1), 0.8)
		if u <= 0 {
			return f.Options[k].Value
		}
	}
	return f.Options[n-1].Value
}

// money draws a log-uniform amount between lo and hi, rounded to hundreds.
func (g *gen) money(lo, hi float64) float64 {
	v := math.Exp(math.Log(lo) + g.r.Float64()*(math.Log(hi)-math.Log(lo)))
	return math.Round(v/100) * 100
}

func has(key string, words ...string) bool {
	for _, w := range words {
		if strings.Contains(key, w) {
			return true
		}
	}
	return false
}

// value generates one field's value from its type and key; nil leaves the field to its
// default (or empty).
func (g *gen) value(ent *spec.Entity, f *spec.Field, i int, created time.Time, vals map[string]any, parent *made) any {
	key := strings.ToLower(f.Key)
	if !f.Required && len(f.Default) > 0 && g.r.Float64() < 0.5 {
		return nil // keep the definition's default for half the records
	}
	switch f.Type {
	case spec.TypeText:
		return g.text(ent, f, key, i, parent)
	case spec.TypeTextarea:
		switch {
		case has(key, "objection"):
			return g.pick(objections)
		case has(key, "need", "note", "desc", "summary"):
			return g.pick(needs)
		case f.Required:
			return g.pick(needs)
		}
		return nil
	case spec.TypeEmail:
		return fmt.Sprintf("demo%d.%s@example.com", i+1, ent.Slug)
	case spec.TypePhone:
		prefix := []int{138, 139, 136, 137, 135, 186, 188, 158, 159, 189}[g.seq%10]
		return fmt.Sprintf("+86%d%08d", prefix, 10_000_000+(i*7919+g.seq*104729)%90_000_000)
	case spec.TypeURL:
		return fmt.Sprintf("https://example.com/%s/%d", ent.Slug, i+1)
	case spec.TypeSelect:
		return g.option(f)
	case spec.TypeMultiselect:
		var out []any
		for _, o := range f.Options {
			if g.r.Float64() < 0.2 {
				out = append(out, o.Value)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case spec.TypeBoolean:
		return g.r.Float64() < 0.6
	case spec.TypeNumber:
		return g.number(f, key)
	case spec.TypeMoney:
		return g.moneyFor(key, vals)
	case spec.TypePercent: // percent units: 13 is 13 %
		return g.percent(f, key)
	case spec.TypeLines:
		return g.lines(f)
	case spec.TypeDate:
		switch {
		case has(key, "since", "birth", "founded"):
			return created.AddDate(-1-g.r.IntN(8), -g.r.IntN(12), 0).Format("2006-01-02")
		case has(key, "close", "due", "expire", "end"):
			return created.AddDate(0, 0, 20+g.r.IntN(100)).Format("2006-01-02")
		}
		return g.when(created, g.now).Format("2006-01-02")
	case spec.TypeDatetime:
		if !f.Required && g.r.Float64() < 0.25 {
			return nil
		}
		return g.when(created, g.now).UTC().Format(time.RFC3339)
	case spec.TypeUser:
		return g.reps[g.r.IntN(len(g.reps))].ID.String()
	case spec.TypeTeam:
		return g.reps[g.r.IntN(len(g.reps))].Team.String()
	}
	// relation (none left to link), attachment, autonumber, formula and other types: leave
	return nil
}

func (g *gen) text(ent *spec.Entity, f *spec.Field, key string, i int, parent *made) any {
	isTitle := f.Key == ent.TitleField || key == "name"
	switch {
	case has(key, "sku", "code"):
		return fmt.Sprintf("SKU-%04d", i+1)
	case has(key, "utm_source"):
		return g.pick([]string{"baidu", "wechat", "weibo", "linkedin", "newsletter"})
	case has(key, "utm_medium"):
		return g.pick([]string{"cpc", "social", "email", "referral"})
	case has(key, "utm_campaign"):
		return g.pick([]string{"2026-spring", "manufacturing-dx", "webinar-q3", "expo-shanghai"})
	case has(key, "company", "org"):
		return g.company()
	case has(key, "title", "position", "job"):
		return g.pick(titles)
	case has(key, "next"):
		return g.pick(nextSteps)
	case has(key, "plan"):
		return g.pick([]string{"每月拜访一次", "每季度业务回顾", "每两周电话回访", "节日问候与新品推介"})
	case has(key, "warning", "reason", "remark"):
		return nil
	case isTitle && (ent.Slug == "product" || has(ent.Slug, "product", "item", "sku")):
		return products[i%len(products)]
	case isTitle && has(ent.Slug, "account", "customer", "company", "org"):
		return g.company()
	case isTitle && parent != nil && parent.Label != "":
		return parent.Label + " · " + g.pick([]string{"CRM 项目", "ERP 升级", "MES 一期", "数据平台", "续约"})
	case isTitle && has(ent.Slug, "lead", "contact", "person", "member"):
		return personName(i*13 + g.r.IntN(1000))
	case isTitle:
		return fmt.Sprintf("%s %d", ent.Slug, i+1)
	case f.Required:
		return g.pick(nextSteps)
	}
	return nil
}

func (g *gen) number(f *spec.Field, key string) any {
	var v float64
	switch {
	case has(key, "score"):
		v = math.Round(g.r.NormFloat64()*18 + 45)
	case has(key, "visit", "count", "inquir", "times"):
		v = float64(int(g.r.ExpFloat64() * 1.5))
	case has(key, "revision", "version"):
		v = float64(1 + g.r.IntN(3))
	case has(key, "qty", "quantity"):
		v = float64(1 + g.r.IntN(20))
	default:
		v = float64(g.r.IntN(100))
	}
	if f.Min != nil && v < *f.Min {
		v = *f.Min
	}
	if f.Max != nil && v > *f.Max {
		v = *f.Max
	}
	return v
}

func (g *gen) moneyFor(key string, vals map[string]any) any {
	switch {
	case has(key, "cost"):
		base := 0.0
		for _, k := range []string{"amount", "price"} {
			if v, ok := vals[k].(float64); ok {
				base = v
			}
		}
		if base > 0 {
			return math.Round(base*(0.4+g.r.Float64()*0.3)/100) * 100
		}
		return g.money(5_000, 300_000)
	case has(key, "price"):
		return g.money(8_000, 400_000)
	case has(key, "annual", "purchase", "revenue"):
		return g.money(200_000, 20_000_000)
	}
	return g.money(30_000, 3_000_000)
}

// percent draws a percentage (in percent units, 13 = 13 %) fitting the field's key and bounds.
func (g *gen) percent(f *spec.Field, key string) any {
	var v float64
	switch {
	case has(key, "tax"):
		v = 13
	case has(key, "max_discount"):
		v = []float64{10, 15, 20, 30}[g.r.IntN(4)]
	case has(key, "discount"):
		v = float64(g.r.IntN(6) * 5)
	case has(key, "margin"):
		v = float64(20 + g.r.IntN(40))
	case has(key, "prob"):
		v = float64(10 * (1 + g.r.IntN(9)))
	default:
		v = float64(g.r.IntN(101))
	}
	return clamp(f, v)
}

func clamp(f *spec.Field, v float64) float64 {
	if f.Min != nil && v < *f.Min {
		v = *f.Min
	}
	if f.Max != nil && v > *f.Max {
		v = *f.Max
	}
	return v
}

// lines generates one to four rows of a lines field: a relation column picks a generated
// record and copies the fields its fill mapping names (a product's name, price and largest
// discount), numbers are small quantities, and a discount stays within the row's largest
// discount so that generated quotes need no approval.
func (g *gen) lines(f *spec.Field) any {
	n := 1 + g.r.IntN(4)
	rows := make([]any, 0, n)
	for r := 0; r < n; r++ {
		row := map[string]any{}
		for _, sf := range f.Fields {
			if sf.Type != spec.TypeRelation {
				continue
			}
			pool := g.made[sf.Target]
			if len(pool) == 0 {
				continue
			}
			m := pool[g.r.IntN(len(pool))]
			row[sf.Key] = m.ID.String()
			for col, from := range sf.Fill {
				if v, ok := m.Values[from]; ok {
					row[col] = v
				}
			}
		}
		for _, sf := range f.Fields {
			if _, set := row[sf.Key]; set || sf.Type == spec.TypeFormula || sf.Type == spec.TypeRelation || sf.ReadOnly {
				continue
			}
			key := strings.ToLower(sf.Key)
			switch sf.Type {
			case spec.TypeNumber:
				row[sf.Key] = clamp(&sf, float64(1+g.r.IntN(10)))
			case spec.TypeMoney:
				row[sf.Key] = g.money(5_000, 200_000)
			case spec.TypePercent:
				v := g.percent(&sf, key).(float64)
				if limit, ok := row["max_discount"].(float64); ok && has(key, "discount") && v > limit {
					v = limit
				}
				row[sf.Key] = v
			case spec.TypeText, spec.TypeTextarea:
				if sf.Required {
					row[sf.Key] = g.pick(products)
				}
			case spec.TypeBoolean:
				row[sf.Key] = g.r.Float64() < 0.5
			case spec.TypeSelect:
				row[sf.Key] = g.option(&sf)
			}
		}
		rows = append(rows, row)
	}
	return rows
}
