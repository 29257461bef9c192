package cvss_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/medwarden/medwarden/internal/cvss"
)

func ExampleParse() {
	v, err := cvss.Parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(v.Version(), v.BaseScore(), v.TemporalScore(), v.Score(), v.Severity(), v.Nomenclature())
	// Output: 3.1 9.8 8.8 8.8 High temporal
}

func ExampleParse_v4() {
	v, _ := cvss.Parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U")
	fmt.Println(v.BaseScore(), v.Score(), v.Nomenclature(), v.Severity())
	// Output: 9.3 8.1 CVSS-BT High
}

func ExampleParse_error() {
	_, err := cvss.Parse("CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
	fmt.Println(err)
	fmt.Println(errors.Is(err, cvss.ErrInvalidValue))
	// Output:
	// cvss: metric "AV" has invalid value "Q" (want one of N, A, L, P)
	// true
}

func ExampleVector_String() {
	v, _ := cvss.Parse("(AV:N/AC:L/Au:N/C:P/I:P/A:P/E:ND)")
	fmt.Println(v)
	// Output: AV:N/AC:L/Au:N/C:P/I:P/A:P
}

func ExampleVector_UnmarshalText() {
	var doc struct {
		CVSS cvss.Vector `json:"cvss"`
	}
	err := json.Unmarshal([]byte(`{"cvss": "CVSS:3.1/S:U/AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:H"}`), &doc)
	fmt.Println(err, doc.CVSS.BaseScore())
	out, _ := json.Marshal(doc)
	fmt.Println(string(out))
	// Output:
	// <nil> 9.8
	// {"cvss":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}
}
