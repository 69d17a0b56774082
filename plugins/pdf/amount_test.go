package pdf

import "testing"

func TestAmountInWords(t *testing.T) {
	cases := map[float64]string{
		0:           "零元整",
		0.05:        "伍分",
		0.5:         "伍角整",
		1:           "壹元整",
		10:          "壹拾元整",
		105:         "壹佰零伍元整",
		1010.01:     "壹仟零壹拾元零壹分",
		10005.2:     "壹万零伍元贰角整",
		128000:      "壹拾贰万捌仟元整",
		135600.5:    "壹拾叁万伍仟陆佰元伍角整",
		100000000:   "壹亿元整",
		100010000:   "壹亿零壹万元整",
		1000000001:  "壹拾亿零壹元整",
		200100:      "贰拾万零壹佰元整",
		3005007.89:  "叁佰万伍仟零柒元捌角玖分",
		-12.3:       "负壹拾贰元叁角整",
		99999999.99: "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分",
	}
	for in, want := range cases {
		if got := AmountInWords(in); got != want {
			t.Errorf("AmountInWords(%v) = %s, want %s", in, got, want)
		}
	}
}
