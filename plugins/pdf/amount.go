package pdf

import (
	"math"
	"strings"
)

var cnDigits = []rune("零壹贰叁肆伍陆柒捌玖")

// AmountInWords writes an amount of yuan in the uppercase Chinese form used on invoices,
// quotes and contracts (人民币大写), e.g. 128000 -> 壹拾贰万捌仟元整, 10005.2 -> 壹万零伍元贰角整.
func AmountInWords(amount float64) string {
	var b strings.Builder
	if amount < 0 {
		b.WriteString("负")
		amount = -amount
	}
	cents := int64(math.Round(amount * 100))
	yuan, jiao, fen := cents/100, cents/10%10, cents%10
	if yuan > 0 {
		b.WriteString(integerWords(yuan))
		b.WriteString("元")
	} else if jiao == 0 && fen == 0 {
		return b.String() + "零元整"
	}
	if jiao > 0 {
		b.WriteRune(cnDigits[jiao])
		b.WriteString("角")
	}
	if fen > 0 {
		if jiao == 0 && yuan > 0 {
			b.WriteString("零")
		}
		b.WriteRune(cnDigits[fen])
		b.WriteString("分")
	} else {
		b.WriteString("整")
	}
	return b.String()
}

func integerWords(n int64) string {
	var groups []int64 // little-endian groups of 4 digits
	for n > 0 {
		groups = append(groups, n%10000)
		n /= 10000
	}
	bigUnits := []string{"", "万", "亿", "万亿"}
	var b strings.Builder
	started := false
	for i := len(groups) - 1; i >= 0; i-- {
		g := groups[i]
		if g == 0 {
			continue
		}
		if started && (g < 1000 || groups[i+1] == 0) {
			b.WriteString("零")
		}
		b.WriteString(groupWords(g))
		if i < len(bigUnits) {
			b.WriteString(bigUnits[i])
		}
		started = true
	}
	return strings.ReplaceAll(b.String(), "零零", "零")
}

func groupWords(g int64) string {
	units := []string{"仟", "佰", "拾", ""}
	digits := []int64{g / 1000, g / 100 % 10, g / 10 % 10, g % 10}
	var b strings.Builder
	zero := false
	started := false
	for i, d := range digits {
		if d == 0 {
			zero = started
			continue
		}
		if zero {
			b.WriteString("零")
			zero = false
		}
		b.WriteRune(cnDigits[d])
		b.WriteString(units[i])
		started = true
	}
	return b.String()
}
