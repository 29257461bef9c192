package versions

import "testing"

func TestFromNative(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scheme, native, want string
	}{
		{"npm", "^0.0.3", "vers:npm/>=0.0.3|<0.0.4"},
		{"npm", "^0.2", "vers:npm/>=0.2.0|<0.3.0"},
		{"npm", "^1", "vers:npm/>=1.0.0|<2.0.0"},
		{"npm", "~1.2", "vers:npm/>=1.2.0|<1.3.0"},
		{"npm", "~0.0.1", "vers:npm/>=0.0.1|<0.1.0"},
		{"npm", "1.x || >=2.5.0", "vers:npm/>=1.0.0|<2.0.0|>=2.5.0"},
		{"npm", "<1.2.x", "vers:npm/<1.2.0"},
		{"npm", "<=1.2.x", "vers:npm/<1.3.0"},
		{"npm", ">1.2.x", "vers:npm/>=1.3.0"},
		{"npm", "1.2.3 - 2.3", "vers:npm/>=1.2.3|<2.4.0"},
		{"npm", "1.2 - 2.3.4", "vers:npm/>=1.2.0|<=2.3.4"},
		{"npm", "*", "vers:npm/*"},
		{"conan", "~1.2.3", "vers:conan/>=1.2.3|<1.3-"},
		{"conan", "^0.0.3", "vers:conan/>=0.0.3|<0.0.4-"},
		{"conan", ">=1.0 <2.0, include_prerelease", "vers:conan/>=1.0|<2.0"},
		{"pypi", "~=1.4.5", "vers:pypi/>=1.4.5|<1.5"},
		{"pypi", "==1.2.*", "vers:pypi/>=1.2|<1.3"},
		{"pypi", ">=1.0a,<2.0", "vers:pypi/>=1.0a0|<2.0"},
		{"gem", "~> 1.2.3", "vers:gem/>=1.2.3|<1.3"},
		{"gem", ">= 1.0, < 2", "vers:gem/>=1.0|<2"},
		{"nuget", "(,1.0]", "vers:nuget/<=1.0"},
		{"nuget", "[1.0]", "vers:nuget/1.0"},
		{"nuget", "(1.0,)", "vers:nuget/>1.0"},
		{"maven", "(,1.0],[1.2,)", "vers:maven/<=1.0|>=1.2"},
		{"maven", "[1.0,2.0)", "vers:maven/>=1.0|<2.0"},
		{"maven", "[1.5]", "vers:maven/1.5"},
		{"deb", ">= 1.0, << 2.0", "vers:deb/>=1.0|<2.0"},
		{"nginx", "1.1.4-1.2.8, 1.3.0+", "vers:nginx/>=1.1.4|<=1.2.8|>=1.3.0"},
		{"nginx", "1.2.9+", "vers:nginx/>=1.2.9|<1.3.0"},
		{"openssl", "1.0.1b, 1.0.1a", "vers:openssl/1.0.1a|1.0.1b"},
		{"golang", "<v19.03.11", "vers:golang/<19.3.11"},
		{"composer", "<6.4.8.1", "vers:composer/<6.4.8+1"},
		{"composer", "~1.2", "vers:composer/>=1.2.0|<2.0.0"},
		{"composer", "~1.2.3", "vers:composer/>=1.2.3|<1.3.0"},
		{"composer", "^1.2.3", "vers:composer/>=1.2.3|<2.0.0"},
		{"cargo", "~1.2", "vers:cargo/>=1.2.0|<1.3.0"},
		{"conan", "[>1 <2.0]", "vers:conan/>1|<2.0"},
	}
	for _, tt := range tests {
		r, err := FromNative(tt.scheme, tt.native)
		if err != nil {
			t.Errorf("FromNative(%s, %q): %v", tt.scheme, tt.native, err)
			continue
		}
		if got := r.String(); got != tt.want {
			t.Errorf("FromNative(%s, %q) = %q, want %q", tt.scheme, tt.native, got, tt.want)
		}
	}
	for _, bad := range [][2]string{{"npm", ">="}, {"nuget", "[1.0"}, {"maven", "[1.0,2.0) x"}, {"maven", "[1,2,3]"}, {"pypi", "!=1.2.*"}, {"nosuch", "1"}, {"npm", "~>1.x.y"}} {
		if r, err := FromNative(bad[0], bad[1]); err == nil {
			t.Errorf("FromNative(%s, %q) = %v, want error", bad[0], bad[1], r)
		}
	}
}
