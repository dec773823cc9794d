package validation

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

var slugRE = regexp.MustCompile(`^[a-z][a-z0-9-]{1,62}$`)

var dnsNameRE = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)

// DNSName reports whether s is a host name in DNS syntax: dot-separated
// labels of letters, digits and inner hyphens, each at most 63 long, with
// no trailing dot.
func DNSName(s string) bool { return dnsNameRE.MatchString(s) }

// Slug checks a tenant or policy name: 2..63 characters of lowercase
// letters, digits and '-', starting with a letter and not ending with '-'
// (so it can be used in DNS labels and file names unchanged).
func Slug(s string) error {
	if s == "" {
		return errors.New("is required")
	}
	if !slugRE.MatchString(s) {
		return fmt.Errorf("%q must be 2..63 lowercase letters, digits or '-', starting with a letter", s)
	}
	if strings.HasSuffix(s, "-") {
		return fmt.Errorf("%q must not end with '-'", s)
	}
	return nil
}

const (
	MaxDisplayNameLen = 256
	MaxDescriptionLen = 1024
	// MaxSkipDetailLen bounds a recommendation's skip_detail in
	// characters: it may quote a live check's error.
	MaxSkipDetailLen = 4096
)

// DisplayName checks a free-text name: optional, at most 256 characters,
// printable, one line.
func DisplayName(s string) error {
	return Text(s, MaxDisplayNameLen, false)
}

// Description checks a free-text description: optional, at most 1024
// characters, printable; newlines and tabs are allowed.
func Description(s string) error {
	return Text(s, MaxDescriptionLen, true)
}

// Text checks free text: valid UTF-8, at most limit characters, printable;
// newlines and tabs only when multiline.
func Text(s string, limit int, multiline bool) error {
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > limit {
		return fmt.Errorf("is %d characters long, at most %d are allowed", n, limit)
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\t') {
			continue
		}
		if !unicode.IsPrint(r) {
			return fmt.Errorf("contains the non-printable character %U", r)
		}
	}
	return nil
}

const (
	MaxTags        = 50
	MaxTagKeyLen   = 128
	MaxTagValueLen = 256
)

// AWS's tag character set: letters, digits, spaces and _ . : / = + - @.
var tagRE = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

// TagKey checks one tag or label key by AWS's rules: 1..128 characters of
// the tag character set, not starting with the reserved "aws:" prefix.
func TagKey(k string) error {
	if k == "" {
		return errors.New("tag key must not be empty")
	}
	if !utf8.ValidString(k) {
		return errors.New("tag key is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(k); n > MaxTagKeyLen {
		return fmt.Errorf("tag key is %d characters long, at most %d are allowed", n, MaxTagKeyLen)
	}
	if !tagRE.MatchString(k) {
		return fmt.Errorf("tag key %q may contain only letters, digits, spaces and _ . : / = + - @", k)
	}
	if strings.HasPrefix(strings.ToLower(k), "aws:") {
		return fmt.Errorf("tag key %q uses the reserved prefix \"aws:\"", k)
	}
	return nil
}

// TagValue checks one tag or label value: 0..256 characters of the tag
// character set.
func TagValue(v string) error {
	if !utf8.ValidString(v) {
		return errors.New("tag value is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(v); n > MaxTagValueLen {
		return fmt.Errorf("tag value is %d characters long, at most %d are allowed", n, MaxTagValueLen)
	}
	if !tagRE.MatchString(v) {
		return fmt.Errorf("tag value %q may contain only letters, digits, spaces and _ . : / = + - @", v)
	}
	return nil
}

// Tags checks a label or tag map: at most 50 entries, each key and value by
// TagKey and TagValue. The returned error is a FieldError naming the entry
// (["key"]) so Errors.Check builds labels["key"].
func Tags(m map[string]string) error {
	if len(m) > MaxTags {
		return fmt.Errorf("has %d entries, at most %d are allowed", len(m), MaxTags)
	}
	for _, k := range sortedKeys(m) {
		if err := TagKey(k); err != nil {
			return FieldError{Field: fmt.Sprintf("[%q]", k), Reason: err.Error()}
		}
		if err := TagValue(m[k]); err != nil {
			return FieldError{Field: fmt.Sprintf("[%q]", k), Reason: err.Error()}
		}
	}
	return nil
}

// ExcludeTags is Tags for exclusion selectors, where the value "*" means
// any value of the key.
func ExcludeTags(m map[string]string) error {
	clean := make(map[string]string, len(m))
	for k, v := range m {
		if v == "*" {
			v = ""
		}
		clean[k] = v
	}
	return Tags(clean)
}
