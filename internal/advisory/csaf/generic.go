package csaf

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

// The document is decoded from JSON once, into the generic tree that the
// schema validator needs; fill then copies that tree into the typed
// structs by their json tags. This halves the decoding work compared with
// a second json.Unmarshal. Values of the wrong JSON type are left at their
// zero value: the schema reports them.

type fieldInfo struct {
	index int
	name  string
}

var fieldCache sync.Map // reflect.Type → []fieldInfo

func fieldsOf(t reflect.Type) []fieldInfo {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]fieldInfo)
	}
	var fs []fieldInfo
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" || !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = sf.Name
		}
		fs = append(fs, fieldInfo{index: i, name: name})
	}
	fieldCache.Store(t, fs)
	return fs
}

var anyMapType = reflect.TypeOf(map[string]any(nil))

// fill copies the generic JSON value src into dst.
func fill(dst reflect.Value, src any) {
	if src == nil {
		return
	}
	switch dst.Kind() {
	case reflect.String:
		if s, ok := src.(string); ok {
			dst.SetString(s)
		}
	case reflect.Pointer:
		if dst.IsNil() {
			dst.Set(reflect.New(dst.Type().Elem()))
		}
		fill(dst.Elem(), src)
	case reflect.Slice:
		arr, ok := src.([]any)
		if !ok {
			return
		}
		s := reflect.MakeSlice(dst.Type(), len(arr), len(arr))
		for i, x := range arr {
			fill(s.Index(i), x)
		}
		dst.Set(s)
	case reflect.Map:
		if obj, ok := src.(map[string]any); ok && dst.Type() == anyMapType {
			dst.Set(reflect.ValueOf(obj))
		}
	case reflect.Struct:
		obj, ok := src.(map[string]any)
		if !ok {
			return
		}
		for _, f := range fieldsOf(dst.Type()) {
			if v, ok := obj[f.name]; ok {
				fill(dst.Field(f.index), v)
			}
		}
	}
}

// str returns obj[key] when it is a string.
func str(obj map[string]any, key string) string {
	s, _ := obj[key].(string)
	return s
}

// number returns a JSON number as float64.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	}
	return 0, false
}
