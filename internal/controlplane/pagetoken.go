package controlplane

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/secrets"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sealed"
)

// Page tokens handed to clients are the store's continuation followed by
// an HMAC-SHA256 over the method, the request's query (every field but
// page_token and page_size, so tenant_id and every filter) and that
// continuation: "<store token>.<mac>". A token is accepted only by the
// method and query it was issued for, so a token from another tenant or
// another filter, or an edited one, is refused with InvalidArgument before
// the store sees it. The store's own check (list and filter fingerprint)
// stays as a second line. This file is the one home of the token format.

// pageKeySetting holds the HMAC key, sealed when the server has a sealer:
// every replica on the database reads the same key (sealed.LoadKey).
const pageKeySetting = "page_token_key"

// loadPageKey reads the page-token key from the store, making it on the
// first start.
func loadPageKey(ctx context.Context, st store.Store, sealer secrets.Sealer) ([]byte, error) {
	key, err := sealed.LoadKey(ctx, st, sealer, pageKeySetting)
	if err != nil {
		return nil, fmt.Errorf("page token key: %w", err)
	}
	return key, nil
}

// pageMAC is the token's signature for method, the request's query and
// the store's continuation.
func (s *Server) pageMAC(method string, req protoreflect.Message, inner string) ([]byte, error) {
	q := proto.Clone(req.Interface())
	r := q.ProtoReflect()
	for _, name := range []protoreflect.Name{"page_token", "page_size"} {
		if fd := r.Descriptor().Fields().ByName(name); fd != nil {
			r.Clear(fd)
		}
	}
	query, err := proto.MarshalOptions{Deterministic: true}.Marshal(q)
	if err != nil {
		return nil, fmt.Errorf("encode the query of a page token: %w", err)
	}
	m := hmac.New(sha256.New, s.pageKey)
	for _, part := range [][]byte{[]byte(method), query, []byte(inner)} {
		// Length-prefixed, so no two (method, query, token) run together
		// into the same bytes.
		fmt.Fprintf(m, "%d:", len(part))
		m.Write(part)
	}
	return m.Sum(nil), nil
}

func pageTokenField(m protoreflect.Message, name protoreflect.Name) protoreflect.FieldDescriptor {
	fd := m.Descriptor().Fields().ByName(name)
	if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsList() {
		return nil
	}
	return fd
}

// unaryPageTokens checks and strips the signature of a list request's
// page_token before the handler, and signs the next_page_token of its
// answer. A pre-encoded answer (its fields are unknown bytes) has an empty
// next_page_token here and is left alone: its handler signed it.
func (s *Server) unaryPageTokens(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	msg, ok := req.(proto.Message)
	if !ok || !strings.HasPrefix(info.FullMethod, managementPrefix) {
		return h(ctx, req)
	}
	r := msg.ProtoReflect()
	fd := pageTokenField(r, "page_token")
	if fd == nil {
		return h(ctx, req)
	}
	if tok := r.Get(fd).String(); tok != "" {
		inner, err := s.openPageToken(info.FullMethod, r, tok)
		if err != nil {
			return nil, err
		}
		r.Set(fd, protoreflect.ValueOfString(inner))
	}
	resp, err := h(ctx, req)
	out, ok := resp.(proto.Message)
	if err != nil || !ok {
		return resp, err
	}
	or := out.ProtoReflect()
	nfd := pageTokenField(or, "next_page_token")
	if nfd == nil || or.Get(nfd).String() == "" {
		return resp, nil
	}
	signed, err := s.signPageToken(info.FullMethod, r, or.Get(nfd).String())
	if err != nil {
		return nil, s.storeError(ctx, "sign the next page token", err)
	}
	or.Set(nfd, protoreflect.ValueOfString(signed))
	return resp, nil
}

// signPageToken is the token handed to the client for the store's
// continuation inner of a page of method answering req. The interceptor
// signs every next_page_token it finds set; a handler that returns its
// page pre-encoded (ListResources with its page cache, pagecache.go) has
// no field for the interceptor to see, so it signs with this before
// encoding.
func (s *Server) signPageToken(method string, req protoreflect.Message, inner string) (string, error) {
	mac, err := s.pageMAC(method, req, inner)
	if err != nil {
		return "", err
	}
	return inner + "." + base64.RawURLEncoding.EncodeToString(mac), nil
}

// openPageToken returns the store's continuation of a token this server
// signed for this method and query.
func (s *Server) openPageToken(method string, req protoreflect.Message, tok string) (string, error) {
	refused := invalidField("page_token", "was not issued by this server for this list, tenant and filters")
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return "", refused
	}
	inner := tok[:i]
	got, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		return "", refused
	}
	want, err := s.pageMAC(method, req, inner)
	if err != nil || !hmac.Equal(got, want) {
		return "", refused
	}
	return inner, nil
}
