// Package pdf generates documents — quotes, contracts, free-form documents — as PDF with
// Chinese text, using github.com/signintech/gopdf and an embedded CJK TrueType font.
//
// The "render" operation returns
//
//	{"file": {"name","type":"application/pdf","size","data":<base64>}, "pages", "sha256",
//	 "total", "amount_in_words", "missing_glyphs"}
//
// "file" is an sdk.File: the flow engine stores it as a record attachment (e.g. PATCH the
// record's attachment field with the stored file id); an email step can attach it as is.
package pdf

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/tessera/tessera/plugins/sdk"
)

func init() { sdk.Register(Connector{}) }

// Connector is the document generation connector ("pdf").
type Connector struct{}

// Spec describes the connector.
func (Connector) Spec() sdk.Spec {
	return sdk.Spec{
		ID: "pdf", Version: "1.0.0", Category: "documents", Icon: "file-pdf",
		Label:       sdk.T("PDF document", "PDF 文档"),
		Description: sdk.T("Generate a quote, contract or document as PDF (Chinese supported).", "生成报价单、合同或自定义文档 PDF（支持中文）。"),
		Operations: []sdk.Operation{{
			ID: "render", Label: sdk.T("Generate PDF", "生成 PDF"),
			Description: sdk.T("Renders a template with data; the file output can be stored as a record attachment or emailed.",
				"用数据渲染模板；输出的文件可保存为记录附件或作为邮件附件发送。"),
			Params: []sdk.Param{
				{Key: "template", Type: sdk.TypeSelect, Label: sdk.T("Template", "模板"), Default: "quote", Options: []sdk.Option{
					{Value: "quote", Label: sdk.T("Quote", "报价单")}, {Value: "contract", Label: sdk.T("Sales contract", "销售合同")},
					{Value: "document", Label: sdk.T("Free-form blocks", "自定义内容块")}}},
				{Key: "lang", Type: sdk.TypeSelect, Label: sdk.T("Labels language", "标签语言"), Default: "zh-CN",
					Options: []sdk.Option{{Value: "zh-CN", Label: sdk.T("Chinese", "中文")}, {Value: "en", Label: sdk.T("English", "英文")}}},
				{Key: "title", Type: sdk.TypeString, Label: sdk.T("Title", "标题"), Help: sdk.T("Defaults to the template's name.", "默认为模板名称。")},
				{Key: "data", Type: sdk.TypeJSON, Label: sdk.T("Data", "数据"), Required: true,
					Help: sdk.T("See plugins/README.md for the quote, contract and blocks shapes.", "报价单、合同及内容块的数据格式见 plugins/README.md。")},
				{Key: "filename", Type: sdk.TypeString, Label: sdk.T("File name", "文件名"), Help: sdk.T("Defaults to <title>-<number>.pdf.", "默认为 <标题>-<编号>.pdf。")},
				{Key: "footer", Type: sdk.TypeString, Label: sdk.T("Footer text", "页脚文字")},
			},
			Output: []sdk.OutputField{
				{Key: "file", Type: "file", Label: sdk.T("PDF file", "PDF 文件")},
				{Key: "pages", Type: "number", Label: sdk.T("Pages", "页数")},
				{Key: "total", Type: "number", Label: sdk.T("Total amount", "合计金额")},
				{Key: "amount_in_words", Type: "string", Label: sdk.T("Amount in words", "大写金额")},
				{Key: "sha256", Type: "string", Label: sdk.T("SHA-256", "SHA-256")},
			},
			Run: render,
		}},
	}
}

// num accepts JSON numbers and numeric strings ("12,000.50", "¥99").
type num float64

// UnmarshalJSON accepts a number or a numeric string.
func (n *num) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err == nil {
		*n = num(f)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a number")
	}
	s = strings.NewReplacer(",", "", "¥", "", "￥", "", " ", "", "$", "").Replace(s)
	if s == "" {
		*n = 0
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("want a number, got %q", s)
	}
	*n = num(f)
	return nil
}

// Party is a seller, customer or contract party.
type Party struct {
	Name    string `json:"name"`
	Contact string `json:"contact"`
	Phone   string `json:"phone"`
	Email   string `json:"email"`
	Address string `json:"address"`
	TaxID   string `json:"tax_id"`
	Bank    string `json:"bank"`
	Account string `json:"account"`
}

// Item is one line of a quote or contract.
type Item struct {
	Name  string `json:"name"`
	Spec  string `json:"spec"`
	Unit  string `json:"unit"`
	Qty   num    `json:"qty"`
	Price num    `json:"price"`
}

// Clause is one numbered contract clause.
type Clause struct {
	Title string `json:"title"`
	Text  string `json:"text"`
}

// Data is the data of the quote and contract templates.
type Data struct {
	Number      string   `json:"number"`
	Date        string   `json:"date"`
	ValidUntil  string   `json:"valid_until"`
	Place       string   `json:"place"`
	Currency    string   `json:"currency"`
	Seller      Party    `json:"seller"`
	Customer    Party    `json:"customer"`
	PartyA      Party    `json:"party_a"`
	PartyB      Party    `json:"party_b"`
	Intro       string   `json:"intro"`
	Items       []Item   `json:"items"`
	Discount    num      `json:"discount"`
	TaxRate     num      `json:"tax_rate"` // percent, e.g. 13
	TaxIncluded bool     `json:"tax_included"`
	Notes       string   `json:"notes"`
	Terms       []string `json:"terms"`
	Clauses     []Clause `json:"clauses"`
	Blocks      []Block  `json:"blocks"`
}

var labels = map[string]map[string]string{
	"zh-CN": {"quote": "报价单", "contract": "销售合同", "document": "文档", "number": "编号", "date": "日期", "valid": "有效期至", "place": "签订地点",
		"seller": "报价方", "customer": "客户", "party_a": "甲方（买方）", "party_b": "乙方（卖方）", "name": "名称", "contact": "联系人", "phone": "电话",
		"email": "邮箱", "address": "地址", "tax_id": "税号", "bank": "开户行", "account": "账号", "no": "序号", "item": "产品/服务", "spec": "规格",
		"qty": "数量", "unit": "单位", "price": "单价", "amount": "金额", "subtotal": "小计", "discount": "折扣", "tax": "税额", "tax_incl": "含税",
		"total": "合计", "in_words": "大写金额：人民币", "notes": "备注", "terms": "条款与说明", "sign_seller": "报价方（盖章）", "sign_customer": "客户确认",
		"sign_a": "甲方（盖章）", "sign_b": "乙方（盖章）", "clause": "第%s条", "items_intro": "产品明细"},
	"en": {"quote": "Quotation", "contract": "Sales Contract", "document": "Document", "number": "No.", "date": "Date", "valid": "Valid until", "place": "Place",
		"seller": "From", "customer": "To", "party_a": "Party A (buyer)", "party_b": "Party B (seller)", "name": "Name", "contact": "Contact", "phone": "Phone",
		"email": "Email", "address": "Address", "tax_id": "Tax ID", "bank": "Bank", "account": "Account", "no": "#", "item": "Item", "spec": "Spec",
		"qty": "Qty", "unit": "Unit", "price": "Unit price", "amount": "Amount", "subtotal": "Subtotal", "discount": "Discount", "tax": "Tax", "tax_incl": "Tax incl.",
		"total": "Total", "in_words": "In words (RMB): ", "notes": "Notes", "terms": "Terms", "sign_seller": "Seller (stamp)", "sign_customer": "Customer acceptance",
		"sign_a": "Party A (stamp)", "sign_b": "Party B (stamp)", "clause": "Article %s", "items_intro": "Items"},
}

var cnNumerals = []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十"}

func clauseNumber(i int, lang string) string {
	if lang != "zh-CN" {
		return strconv.Itoa(i)
	}
	switch {
	case i <= 10:
		return cnNumerals[i]
	case i < 20:
		return "十" + cnNumerals[i-10]
	case i < 100:
		s := cnNumerals[i/10] + "十"
		if i%10 != 0 {
			s += cnNumerals[i%10]
		}
		return s
	}
	return strconv.Itoa(i)
}

// Money formats an amount with thousands separators and two decimals.
func Money(currency string, v float64) string {
	neg := v < 0
	cents := int64(math.Round(math.Abs(v) * 100))
	s := strconv.FormatInt(cents/100, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := fmt.Sprintf("%s%s.%02d", currency, b.String(), cents%100)
	if neg {
		out = "-" + out
	}
	return out
}

func trimNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func partyPairs(l map[string]string, p Party) [][2]string {
	var out [][2]string
	add := func(k, v string) {
		if v != "" {
			out = append(out, [2]string{l[k], v})
		}
	}
	add("name", p.Name)
	add("contact", p.Contact)
	add("phone", p.Phone)
	add("email", p.Email)
	add("address", p.Address)
	add("tax_id", p.TaxID)
	add("bank", p.Bank)
	add("account", p.Account)
	return out
}

// itemsBlocks returns the item table and the totals; total is 0 without items.
func itemsBlocks(l map[string]string, d Data) ([]Block, float64) {
	if len(d.Items) == 0 {
		return nil, 0
	}
	cur := d.Currency
	if cur == "" {
		cur = "¥"
	}
	t := Block{Type: "table", Cols: []Col{{Title: l["no"], Width: 0.6, Align: "center"}, {Title: l["item"], Width: 3}, {Title: l["spec"], Width: 2},
		{Title: l["qty"], Width: 0.9, Align: "right"}, {Title: l["unit"], Width: 0.8, Align: "center"}, {Title: l["price"], Width: 1.6, Align: "right"},
		{Title: l["amount"], Width: 1.8, Align: "right"}}}
	subtotal := 0.0
	for i, it := range d.Items {
		amount := float64(it.Qty) * float64(it.Price)
		subtotal += amount
		t.Rows = append(t.Rows, []string{strconv.Itoa(i + 1), it.Name, it.Spec, trimNum(float64(it.Qty)), it.Unit, Money(cur, float64(it.Price)), Money(cur, amount)})
	}
	total := subtotal - float64(d.Discount)
	var pairs [][2]string
	pairs = append(pairs, [2]string{l["subtotal"], Money(cur, subtotal)})
	if d.Discount != 0 {
		pairs = append(pairs, [2]string{l["discount"], "-" + Money(cur, float64(d.Discount))})
	}
	if d.TaxRate != 0 {
		if d.TaxIncluded {
			pairs = append(pairs, [2]string{l["tax_incl"], trimNum(float64(d.TaxRate)) + "%"})
		} else {
			tax := math.Round(total*float64(d.TaxRate)) / 100
			pairs = append(pairs, [2]string{l["tax"] + " " + trimNum(float64(d.TaxRate)) + "%", Money(cur, tax)})
			total += tax
		}
	}
	pairs = append(pairs, [2]string{l["total"], Money(cur, total)})
	var sums []Block
	for _, p := range pairs {
		sums = append(sums, Block{Type: "paragraph", Text: p[0] + "：" + p[1], Align: "right", Bold: p[0] == l["total"]})
	}
	return append([]Block{t}, sums...), total
}

func quoteBlocks(l map[string]string, title string, d Data) ([]Block, float64) {
	bs := []Block{{Type: "heading", Text: title, Size: 20, Align: "center"}}
	var meta [][2]string
	for _, kv := range [][2]string{{l["number"], d.Number}, {l["date"], d.Date}, {l["valid"], d.ValidUntil}} {
		if kv[1] != "" {
			meta = append(meta, kv)
		}
	}
	if len(meta) > 0 {
		bs = append(bs, Block{Type: "kv", Pairs: meta, Columns: 3})
	}
	bs = append(bs, Block{Type: "rule"},
		Block{Type: "heading", Text: l["customer"], Size: 12}, Block{Type: "kv", Pairs: partyPairs(l, d.Customer)},
		Block{Type: "heading", Text: l["seller"], Size: 12}, Block{Type: "kv", Pairs: partyPairs(l, d.Seller)},
		Block{Type: "rule"})
	items, total := itemsBlocks(l, d)
	bs = append(bs, items...)
	if len(items) > 0 {
		bs = append(bs, Block{Type: "paragraph", Text: l["in_words"] + AmountInWords(total), Align: "right"})
	}
	if d.Notes != "" {
		bs = append(bs, Block{Type: "heading", Text: l["notes"], Size: 12}, Block{Type: "paragraph", Text: d.Notes})
	}
	if len(d.Terms) > 0 {
		bs = append(bs, Block{Type: "heading", Text: l["terms"], Size: 12})
		for i, t := range d.Terms {
			bs = append(bs, Block{Type: "paragraph", Text: fmt.Sprintf("%d. %s", i+1, t)})
		}
	}
	bs = append(bs, Block{Type: "signatures", Parties: []string{l["sign_seller"], l["sign_customer"]}})
	return bs, total
}

func contractBlocks(l map[string]string, lang, title string, d Data) ([]Block, float64) {
	bs := []Block{{Type: "heading", Text: title, Size: 20, Align: "center"}}
	var meta [][2]string
	for _, kv := range [][2]string{{l["number"], d.Number}, {l["date"], d.Date}, {l["place"], d.Place}} {
		if kv[1] != "" {
			meta = append(meta, kv)
		}
	}
	if len(meta) > 0 {
		bs = append(bs, Block{Type: "kv", Pairs: meta, Columns: 3})
	}
	bs = append(bs, Block{Type: "rule"},
		Block{Type: "heading", Text: l["party_a"], Size: 12}, Block{Type: "kv", Pairs: partyPairs(l, d.PartyA)},
		Block{Type: "heading", Text: l["party_b"], Size: 12}, Block{Type: "kv", Pairs: partyPairs(l, d.PartyB)},
		Block{Type: "rule"})
	if d.Intro != "" {
		bs = append(bs, Block{Type: "paragraph", Text: d.Intro})
	}
	items, total := itemsBlocks(l, d)
	if len(items) > 0 {
		bs = append(bs, Block{Type: "heading", Text: l["items_intro"], Size: 12})
		bs = append(bs, items...)
		bs = append(bs, Block{Type: "paragraph", Text: l["in_words"] + AmountInWords(total), Align: "right"})
	}
	for i, c := range d.Clauses {
		head := fmt.Sprintf(l["clause"], clauseNumber(i+1, lang))
		if c.Title != "" {
			head += " " + c.Title
		}
		bs = append(bs, Block{Type: "heading", Text: head, Size: 11.5}, Block{Type: "paragraph", Text: c.Text})
	}
	bs = append(bs, Block{Type: "signatures", Parties: []string{l["sign_a"], l["sign_b"]}})
	return bs, total
}

var unsafeName = strings.NewReplacer("/", "_", "\\", "_", ":", "_", "*", "_", "?", "_", "\"", "_", "<", "_", ">", "_", "|", "_", "\n", " ", "\r", " ")

func render(ctx context.Context, env sdk.Env, p map[string]any) (any, error) {
	raw, err := json.Marshal(p["data"])
	if err != nil {
		return nil, sdk.Permanent(fmt.Errorf("encoding data: %w", err))
	}
	var d Data
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, sdk.Permanent(fmt.Errorf("data does not fit the template: %w", err))
	}
	lang := sdk.String(p, "lang")
	l := labels[lang]
	if l == nil {
		l, lang = labels["zh-CN"], "zh-CN"
	}
	tmpl := sdk.String(p, "template")
	title := sdk.String(p, "title")
	if title == "" {
		title = l[tmpl]
	}
	var blocks []Block
	var total float64
	switch tmpl {
	case "quote":
		blocks, total = quoteBlocks(l, title, d)
	case "contract":
		blocks, total = contractBlocks(l, lang, title, d)
	case "document":
		if len(d.Blocks) == 0 {
			return nil, sdk.Permanent(fmt.Errorf(`data.blocks is required for the document template`))
		}
		blocks = append([]Block{{Type: "heading", Text: title, Size: 18, Align: "center"}}, d.Blocks...)
	default:
		return nil, sdk.Permanent(fmt.Errorf("unknown template %q", tmpl))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res, err := Render(Document{Title: title, Subject: d.Number, Author: d.Seller.Name, Footer: sdk.String(p, "footer"), Blocks: blocks, Created: env.Time()})
	if err != nil {
		return nil, sdk.Permanent(fmt.Errorf("rendering %s: %w", tmpl, err))
	}
	name := sdk.String(p, "filename")
	if name == "" {
		name = title
		if d.Number != "" {
			name += "-" + d.Number
		}
	}
	name = unsafeName.Replace(strings.TrimSpace(name))
	if !strings.HasSuffix(strings.ToLower(name), ".pdf") {
		name += ".pdf"
	}
	sum := sha256.Sum256(res.PDF)
	if len(res.Missing) > 0 {
		env.Log().Warn("pdf: characters without glyph rendered as '?'", "chars", strings.Join(res.Missing, ""))
	}
	out := map[string]any{
		"file":           sdk.File{Name: name, Type: "application/pdf", Size: len(res.PDF), Data: res.PDF},
		"pages":          res.Pages,
		"sha256":         hex.EncodeToString(sum[:]),
		"missing_glyphs": res.Missing,
	}
	if tmpl != "document" {
		out["total"] = math.Round(total*100) / 100
		out["amount_in_words"] = AmountInWords(total)
	}
	return out, nil
}
