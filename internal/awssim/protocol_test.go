package awssim

import (
	"net/url"
	"strings"
	"testing"
)

func TestIndexedListsAndSubForms(t *testing.T) {
	form, _ := url.ParseQuery("InstanceId.10=c&InstanceId.2=b&InstanceId.1=a&Filter.2.Name=x&Filter.2.Value.1=1&Filter.1.Name=y&Filter.1.Value.2=3&Filter.1.Value.1=2")
	ids, aerr := IndexedList(form, "InstanceId")
	if aerr != nil || strings.Join(ids, ",") != "a,b,c" {
		t.Fatalf("IndexedList = %v, %v; want numeric order a,b,c", ids, aerr)
	}
	fs, aerr := Filters(form, "Filter", "Value")
	if aerr != nil || len(fs) != 2 || fs[0].Name != "y" || strings.Join(fs[0].Values, ",") != "2,3" || fs[1].Name != "x" {
		t.Fatalf("Filters = %+v, %v", fs, aerr)
	}
	for _, bad := range []string{"InstanceId.0=a", "InstanceId.01=a", "InstanceId.-1=a", "InstanceId.x=a", "InstanceId.10001=a", "InstanceId.1=a&InstanceId.1=b"} {
		form, _ := url.ParseQuery(bad)
		if _, aerr := IndexedList(form, "InstanceId"); aerr == nil || aerr.Code != "InvalidParameterValue" {
			t.Errorf("%s: %v, want InvalidParameterValue", bad, aerr)
		}
	}
	for _, bad := range []string{"Filter.1.Value.1=a", "Filter.1=a", "Filter.a.Name=x"} {
		form, _ := url.ParseQuery(bad)
		if _, aerr := Filters(form, "Filter", "Value"); aerr == nil || aerr.Code != "InvalidParameterValue" {
			t.Errorf("%s: %v, want InvalidParameterValue", bad, aerr)
		}
	}
	form, _ = url.ParseQuery("Tags.member.1.Key=a&Tags.member.1.Value=b")
	tags, aerr := TagList(form, "Tags.member")
	if aerr != nil || len(tags) != 1 || tags[0] != (Tag{Key: "a", Value: "b"}) {
		t.Fatalf("awsquery TagList = %+v, %v", tags, aerr)
	}
}
