package pdf_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tessera/tessera/plugins/pdf"
	"github.com/tessera/tessera/plugins/sdk"
	"github.com/tessera/tessera/plugins/sdk/sdktest"
)

// pdftotext extracts the text of a PDF with poppler (installed by scripts/ensure-deps.sh).
func pdftotext(t *testing.T, data []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Fatalf("pdftotext not found: run `bash scripts/ensure-deps.sh postgres` (installs poppler-utils)")
	}
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v: %s", err, out)
	}
	if fonts, err := exec.Command("pdffonts", path).CombinedOutput(); err == nil {
		// The CJK font must be embedded (a viewer without it would show tofu).
		for _, line := range strings.Split(string(fonts), "\n")[2:] {
			if f := strings.Fields(line); len(f) >= 5 && !strings.Contains(line, " yes ") {
				t.Errorf("font not embedded: %s", line)
			}
		}
	}
	return string(out)
}

// squash removes whitespace so text that pdftotext spread over cells can be matched.
func squash(s string) string {
	return strings.Join(strings.Fields(s), "")
}

func fileOf(t *testing.T, out any) sdk.File {
	t.Helper()
	f, ok := out.(map[string]any)["file"].(sdk.File)
	if !ok || f.Type != "application/pdf" || f.Size != len(f.Data) || !bytes.HasPrefix(f.Data, []byte("%PDF-")) {
		t.Fatalf("bad file output: %#v", out)
	}
	return f
}

const quoteData = `{
  "number": "Q-2026-0042", "date": "2026年3月1日", "valid_until": "2026年3月31日",
  "seller": {"name": "杭州泰塞拉软件有限公司", "contact": "李娜", "phone": "0571-8888 6666", "address": "浙江省杭州市西湖区文三路 100 号"},
  "customer": {"name": "深圳市鹏程智能科技有限公司", "contact": "张伟", "phone": "138 0013 8000", "email": "zhangwei@pengcheng.cn"},
  "items": [
    {"name": "Tessera 企业版许可证", "spec": "50 用户 / 年", "qty": 1, "unit": "套", "price": 98000},
    {"name": "实施与培训服务", "spec": "含需求调研、流程配置、上线培训", "qty": 10, "unit": "人天", "price": "2,500"},
    {"name": "钉钉与企业微信集成", "spec": "消息推送、审批回调", "qty": 1, "unit": "项", "price": 8000}
  ],
  "discount": 3000, "tax_rate": 6,
  "notes": "本报价含首年技术支持；付款方式：合同签订后支付 50%，上线验收后支付 50%。",
  "terms": ["报价有效期 30 天。", "交付周期：合同签订后 20 个工作日内。"]
}`

func TestQuoteChineseExtractable(t *testing.T) {
	h := sdktest.New(t).WithNow(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	out := h.MustRun(pdf.Connector{}, "render", map[string]any{"template": "quote", "data": quoteData, "footer": "机密 · 仅供客户内部使用"})
	m := out.(map[string]any)
	f := fileOf(t, out)
	if f.Name != "报价单-Q-2026-0042.pdf" {
		t.Errorf("file name %q", f.Name)
	}
	// subtotal 98000 + 25000 + 8000 = 131000; -3000 = 128000; +6% tax 7680 = 135680
	if m["total"] != 135680.0 || m["amount_in_words"] != "壹拾叁万伍仟陆佰捌拾元整" {
		t.Errorf("total %v %v", m["total"], m["amount_in_words"])
	}
	if missing := m["missing_glyphs"].([]string); len(missing) != 0 {
		t.Errorf("characters without glyph (tofu): %v", missing)
	}
	text := squash(pdftotext(t, f.Data))
	for _, want := range []string{
		"报价单", "Q-2026-0042", "深圳市鹏程智能科技有限公司", "杭州泰塞拉软件有限公司", "张伟", "Tessera企业版许可证",
		"实施与培训服务", "人天", "¥25,000.00", "¥98,000.00", "小计：¥131,000.00", "折扣：-¥3,000.00", "税额6%：¥7,680.00",
		"合计：¥135,680.00", "大写金额：人民币壹拾叁万伍仟陆佰捌拾元整", "付款方式：合同签订后支付50%", "报价有效期30天。",
		"报价方（盖章）", "客户确认", "机密·仅供客户内部使用", "第1页",
	} {
		if !strings.Contains(text, squash(want)) {
			t.Errorf("extracted text misses %q\n--- text ---\n%s", want, text)
		}
	}
	if strings.ContainsRune(text, '\uFFFD') || strings.Contains(text, "??") {
		t.Errorf("replacement characters in extracted text: %s", text)
	}
	// The output survives the JSON round trip the flow engine stores (data as base64).
	b, _ := json.Marshal(out)
	var back struct {
		File struct {
			Name string `json:"name"`
			Data string `json:"data"`
		} `json:"file"`
	}
	json.Unmarshal(b, &back)
	if raw, _ := base64.StdEncoding.DecodeString(back.File.Data); !bytes.Equal(raw, f.Data) || back.File.Name != f.Name {
		t.Error("file does not survive JSON")
	}
}

func TestLongQuoteBreaksPages(t *testing.T) {
	var items []string
	for i := 1; i <= 80; i++ {
		items = append(items, fmt.Sprintf(`{"name":"配件第%d号（加长说明文字用于测试自动换行与分页是否正确处理中文字符）","qty":%d,"unit":"个","price":12.5}`, i, i))
	}
	data := `{"number":"Q-LONG","customer":{"name":"上海长单有限公司"},"items":[` + strings.Join(items, ",") + `]}`
	out := sdktest.New(t).MustRun(pdf.Connector{}, "render", map[string]any{"data": data, "lang": "zh-CN"})
	m := out.(map[string]any)
	if m["pages"].(int) < 3 {
		t.Fatalf("pages %v", m["pages"])
	}
	text := squash(pdftotext(t, fileOf(t, out).Data))
	// sum i*12.5 for i=1..80 = 12.5*3240 = 40500
	for _, want := range []string{"配件第1号", "配件第80号", "合计：¥40,500.00", "肆万零伍佰元整", "第3页"} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q", want)
		}
	}
	if n := strings.Count(text, "产品/服务"); n < m["pages"].(int)-1 {
		t.Errorf("table header repeated %d times over %v pages", n, m["pages"])
	}
}

func TestContractAndDocument(t *testing.T) {
	h := sdktest.New(t)
	contract := `{"number":"HT-2026-007","date":"2026-04-01","place":"杭州",
	  "party_a":{"name":"深圳市鹏程智能科技有限公司","address":"深圳市南山区科技园"},
	  "party_b":{"name":"杭州泰塞拉软件有限公司","tax_id":"91330100MA2B3C4D5E"},
	  "intro":"甲乙双方经友好协商，就软件采购事宜达成如下协议：",
	  "items":[{"name":"企业版许可证","qty":1,"unit":"套","price":100000}],"tax_rate":13,"tax_included":true,
	  "clauses":[{"title":"交付","text":"乙方应于合同生效后二十个工作日内完成交付。"},{"title":"付款","text":"甲方分两期付款。"},
	    {"title":"保密","text":"双方对合作中知悉的商业秘密负有保密义务。"},{"title":"争议解决","text":"提交杭州仲裁委员会仲裁。"},
	    {"title":"其他","text":"本合同一式两份。"},{"title":"附则1","text":"无"},{"title":"附则2","text":"无"},{"title":"附则3","text":"无"},
	    {"title":"附则4","text":"无"},{"title":"附则5","text":"无"},{"title":"附则6","text":"无"},{"title":"附则7","text":"本条为第十二条。"}]}`
	out := h.MustRun(pdf.Connector{}, "render", map[string]any{"template": "contract", "data": contract})
	text := squash(pdftotext(t, fileOf(t, out).Data))
	for _, want := range []string{"销售合同", "HT-2026-007", "甲方（买方）", "乙方（卖方）", "91330100MA2B3C4D5E", "第一条交付", "第四条争议解决",
		"第十二条附则7", "含税：13%", "合计：¥100,000.00", "壹拾万元整", "甲方（盖章）", "乙方（盖章）"} {
		if !strings.Contains(text, want) {
			t.Errorf("contract misses %q\n%s", want, text)
		}
	}
	doc := `{"blocks":[{"type":"paragraph","text":"会议纪要：确认二期范围。"},{"type":"kv","pairs":[["时间","2026-05-06"],["地点","3 号会议室"]]},
	  {"type":"table","cols":[{"title":"事项"},{"title":"负责人","width":0.5}],"rows":[["接口联调","王强"],["验收","赵敏"]]},{"type":"rule"},{"type":"signatures","parties":["记录人"]}]}`
	out = h.MustRun(pdf.Connector{}, "render", map[string]any{"template": "document", "title": "项目周会", "data": doc, "filename": "纪要/2026:05.pdf"})
	f := fileOf(t, out)
	if f.Name != "纪要_2026_05.pdf" {
		t.Errorf("unsafe file name kept: %q", f.Name)
	}
	text = squash(pdftotext(t, f.Data))
	for _, want := range []string{"项目周会", "会议纪要：确认二期范围。", "3号会议室", "接口联调", "赵敏", "记录人"} {
		if !strings.Contains(text, want) {
			t.Errorf("document misses %q\n%s", want, text)
		}
	}
	if _, err := h.Run(pdf.Connector{}, "render", map[string]any{"template": "document", "data": `{"blocks":[{"type":"nope"}]}`}); err == nil || sdk.IsRetryable(err) {
		t.Fatalf("unknown block: %v", err)
	}
	if _, err := h.Run(pdf.Connector{}, "render", map[string]any{"data": `{"items":[{"name":"x","qty":"lots"}]}`}); err == nil {
		t.Fatal("bad qty accepted")
	}
}

func TestMissingGlyphReported(t *testing.T) {
	out := sdktest.New(t).MustRun(pdf.Connector{}, "render", map[string]any{"template": "document", "data": `{"blocks":[{"type":"paragraph","text":"签约 🎉"}]}`})
	if missing := out.(map[string]any)["missing_glyphs"].([]string); len(missing) != 1 || missing[0] != "🎉" {
		t.Fatalf("missing %v", missing)
	}
}

func TestSpec(t *testing.T) { sdktest.CheckSpec(t, pdf.Connector{}) }
