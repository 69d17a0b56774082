package pdf

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/signintech/gopdf"
)

// fontTTF is WenQuanYi Micro Hei (face 0 of Debian's wqy-microhei.ttc), Apache-2.0; see
// fonts/README.md. gopdf embeds only the glyphs a document uses.
//
//go:embed fonts/wqy-microhei.ttf
var fontTTF []byte

const (
	family    = "wqy"
	pageW     = 595.28 // A4 in points
	pageH     = 841.89
	margin    = 50.0
	contentW  = pageW - 2*margin
	bottom    = pageH - margin - 20 // keep room for the footer
	lineGap   = 1.45
	baseSize  = 10.5
	smallSize = 9.0
)

// Block is one element of a document. Type is heading, paragraph, kv, table, rule, spacer,
// signatures or page_break.
type Block struct {
	Type  string  `json:"type"`
	Text  string  `json:"text,omitempty"`
	Size  float64 `json:"size,omitempty"`
	Align string  `json:"align,omitempty"` // left, center, right
	Bold  bool    `json:"bold,omitempty"`
	// Pairs are the label/value rows of a kv block, laid out in Columns columns (default 2).
	Pairs   [][2]string `json:"pairs,omitempty"`
	Columns int         `json:"columns,omitempty"`
	// Cols and Rows make a table.
	Cols []Col      `json:"cols,omitempty"`
	Rows [][]string `json:"rows,omitempty"`
	// Height of a spacer.
	Height float64 `json:"height,omitempty"`
	// Parties of a signatures block.
	Parties []string `json:"parties,omitempty"`
}

// Col is a table column: Width is relative.
type Col struct {
	Title string  `json:"title"`
	Width float64 `json:"width,omitempty"`
	Align string  `json:"align,omitempty"` // left, center, right
}

// Document is what gets rendered.
type Document struct {
	Title   string
	Author  string
	Subject string
	Footer  string
	Blocks  []Block
	Created time.Time
}

// Result is a rendered PDF.
type Result struct {
	PDF   []byte
	Pages int
	// Missing lists characters the embedded font has no glyph for (rendered as '?').
	Missing []string
}

type doc struct {
	pdf     *gopdf.GoPdf
	y       float64
	missing map[rune]bool
	footer  string
}

func alignOf(s string) int {
	switch s {
	case "center":
		return gopdf.Center | gopdf.Top
	case "right":
		return gopdf.Right | gopdf.Top
	}
	return gopdf.Left | gopdf.Top
}

// Render lays the document out on A4 pages with the embedded CJK font.
func Render(d Document) (Result, error) {
	p := &gopdf.GoPdf{}
	p.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4, Unit: gopdf.UnitPT})
	out := &doc{pdf: p, missing: map[rune]bool{}, footer: d.Footer}
	err := p.AddTTFFontDataWithOption(family, fontTTF, gopdf.TtfOption{
		OnGlyphNotFoundSubstitute: func(r rune) rune { out.missing[r] = true; return '?' },
	})
	if err != nil {
		return Result{}, fmt.Errorf("loading the embedded font: %w", err)
	}
	created := d.Created
	if created.IsZero() {
		created = time.Now()
	}
	p.SetInfo(gopdf.PdfInfo{Title: d.Title, Author: d.Author, Subject: d.Subject, Creator: "Tessera", Producer: "Tessera (gopdf)", CreationDate: created})
	p.AddFooter(func() { out.drawFooter() })
	p.AddPage()
	out.y = margin
	for i, b := range d.Blocks {
		if err := out.block(b); err != nil {
			return Result{}, fmt.Errorf("block %d (%s): %w", i, b.Type, err)
		}
	}
	res := Result{PDF: p.GetBytesPdf(), Pages: p.GetNumberOfPages()}
	for r := range out.missing {
		res.Missing = append(res.Missing, string(r))
	}
	sort.Strings(res.Missing)
	return res, nil
}

func (d *doc) drawFooter() {
	d.pdf.SetFont(family, "", 8)
	d.pdf.SetTextColor(120, 120, 120)
	n := d.pdf.GetNumberOfPages()
	text := fmt.Sprintf("第 %d 页", n)
	if d.footer != "" {
		text = d.footer + "    " + text
	}
	d.pdf.SetXY(margin, pageH-margin)
	d.pdf.CellWithOption(&gopdf.Rect{W: contentW, H: 10}, text, gopdf.CellOption{Align: gopdf.Center | gopdf.Top})
	d.pdf.SetTextColor(0, 0, 0)
}

func (d *doc) newPage() {
	d.pdf.AddPage()
	d.y = margin
}

// ensure starts a new page when h more points do not fit.
func (d *doc) ensure(h float64) {
	if d.y+h > bottom {
		d.newPage()
	}
}

// lines wraps text to width at the given size (CJK breaks between any characters, Latin
// text at spaces when possible).
func (d *doc) lines(text string, size, width float64) ([]string, error) {
	if err := d.pdf.SetFont(family, "", size); err != nil {
		return nil, err
	}
	var out []string
	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if para == "" {
			out = append(out, "")
			continue
		}
		ls, err := d.pdf.SplitTextWithWordWrap(para, width)
		if err != nil {
			ls, err = d.pdf.SplitText(para, width)
			if err != nil {
				return nil, err
			}
		}
		out = append(out, ls...)
	}
	return out, nil
}

// text writes a wrapped paragraph at x with width, advancing y; it breaks pages as needed.
func (d *doc) text(x, width float64, text string, size float64, align string, bold bool) error {
	ls, err := d.lines(text, size, width)
	if err != nil {
		return err
	}
	lh := size * lineGap
	for _, l := range ls {
		d.ensure(lh)
		d.pdf.SetXY(x, d.y)
		if err := d.pdf.CellWithOption(&gopdf.Rect{W: width, H: lh}, l, gopdf.CellOption{Align: alignOf(align)}); err != nil {
			return err
		}
		if bold { // the font has no bold face: overprint with a small offset
			d.pdf.SetXY(x+0.35, d.y)
			d.pdf.CellWithOption(&gopdf.Rect{W: width, H: lh}, l, gopdf.CellOption{Align: alignOf(align)})
		}
		d.y += lh
	}
	return nil
}

func (d *doc) block(b Block) error {
	switch b.Type {
	case "heading":
		size := b.Size
		if size == 0 {
			size = 14
		}
		d.ensure(size * 3)
		d.y += size * 0.4
		if err := d.text(margin, contentW, b.Text, size, b.Align, true); err != nil {
			return err
		}
		d.y += size * 0.3
	case "paragraph":
		size := b.Size
		if size == 0 {
			size = baseSize
		}
		if err := d.text(margin, contentW, b.Text, size, b.Align, b.Bold); err != nil {
			return err
		}
		d.y += 4
	case "kv":
		cols := b.Columns
		if cols <= 0 {
			cols = 2
		}
		colW := contentW / float64(cols)
		labelW := colW * 0.32
		for i := 0; i < len(b.Pairs); i += cols {
			top := d.y
			maxY := top
			d.ensure(baseSize * lineGap * 2)
			top = d.y
			for j := 0; j < cols && i+j < len(b.Pairs); j++ {
				x := margin + float64(j)*colW
				d.y = top
				d.pdf.SetTextColor(90, 90, 90)
				if err := d.text(x, labelW, b.Pairs[i+j][0], smallSize+0.5, "left", false); err != nil {
					return err
				}
				d.pdf.SetTextColor(0, 0, 0)
				d.y = top
				if err := d.text(x+labelW, colW-labelW-6, b.Pairs[i+j][1], baseSize, "left", false); err != nil {
					return err
				}
				if d.y > maxY {
					maxY = d.y
				}
			}
			d.y = maxY + 2
		}
		d.y += 4
	case "table":
		return d.table(b)
	case "rule":
		d.ensure(8)
		d.y += 3
		d.pdf.SetLineWidth(0.6)
		d.pdf.SetStrokeColor(160, 160, 160)
		d.pdf.Line(margin, d.y, margin+contentW, d.y)
		d.y += 5
	case "spacer":
		h := b.Height
		if h == 0 {
			h = 12
		}
		d.y += h
	case "page_break":
		d.newPage()
	case "signatures":
		n := len(b.Parties)
		if n == 0 {
			return nil
		}
		d.ensure(90)
		d.y += 20
		colW := contentW / float64(n)
		top := d.y
		for i, party := range b.Parties {
			x := margin + float64(i)*colW
			d.y = top
			if err := d.text(x, colW-20, party, baseSize, "left", true); err != nil {
				return err
			}
			d.y += 28
			d.pdf.SetLineWidth(0.5)
			d.pdf.SetStrokeColor(0, 0, 0)
			d.pdf.Line(x, d.y, x+colW-30, d.y)
			d.y += 6
			if err := d.text(x, colW-20, "签字/盖章：                日期：", smallSize, "left", false); err != nil {
				return err
			}
		}
		d.y += 10
	default:
		return fmt.Errorf("unknown block type %q", b.Type)
	}
	return nil
}

func (d *doc) table(b Block) error {
	if len(b.Cols) == 0 {
		return fmt.Errorf("a table needs columns")
	}
	total := 0.0
	for _, c := range b.Cols {
		w := c.Width
		if w <= 0 {
			w = 1
		}
		total += w
	}
	widths := make([]float64, len(b.Cols))
	for i, c := range b.Cols {
		w := c.Width
		if w <= 0 {
			w = 1
		}
		widths[i] = contentW * w / total
	}
	const pad = 4.0
	head := make([]string, len(b.Cols))
	for i, c := range b.Cols {
		head[i] = c.Title
	}
	var row func(cells []string, header bool) error
	row = func(cells []string, header bool) error {
		size := baseSize - 0.5
		if header {
			size = smallSize + 0.5
		}
		lh := size * lineGap
		wrapped := make([][]string, len(b.Cols))
		height := lh
		for i := range b.Cols {
			cell := ""
			if i < len(cells) {
				cell = cells[i]
			}
			ls, err := d.lines(cell, size, widths[i]-2*pad)
			if err != nil {
				return err
			}
			wrapped[i] = ls
			if h := float64(len(ls)) * lh; h > height {
				height = h
			}
		}
		height += 2 * pad
		if d.y+height > bottom {
			d.newPage()
			if !header { // repeat the header on the new page
				if err := row(head, true); err != nil {
					return err
				}
			}
		}
		x := margin
		if header {
			d.pdf.SetFillColor(236, 240, 245)
			d.pdf.RectFromUpperLeftWithStyle(margin, d.y, contentW, height, "F")
		}
		d.pdf.SetLineWidth(0.4)
		d.pdf.SetStrokeColor(170, 170, 170)
		d.pdf.SetFont(family, "", size)
		for i, col := range b.Cols {
			d.pdf.RectFromUpperLeftWithStyle(x, d.y, widths[i], height, "D")
			for j, l := range wrapped[i] {
				d.pdf.SetXY(x+pad, d.y+pad+float64(j)*lh)
				align := col.Align
				if header {
					align = "center"
				}
				if err := d.pdf.CellWithOption(&gopdf.Rect{W: widths[i] - 2*pad, H: lh}, l, gopdf.CellOption{Align: alignOf(align)}); err != nil {
					return err
				}
			}
			x += widths[i]
		}
		d.y += height
		return nil
	}
	if d.y+60 > bottom { // keep the header with at least one row
		d.newPage()
	}
	if err := row(head, true); err != nil {
		return err
	}
	for _, r := range b.Rows {
		if err := row(r, false); err != nil {
			return err
		}
	}
	d.y += 8
	return nil
}
