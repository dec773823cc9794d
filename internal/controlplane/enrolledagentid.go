package controlplane

import (
	"crypto/sha256"
	"crypto/x509"

	"github.com/google/uuid"
)

// enrolledAgentNamespace scopes the ids enrolledAgentID derives.
var enrolledAgentNamespace = uuid.MustParse("6f1d7c2e-3b8a-4e51-9a0d-5c2b7e8f4a13")

// enrolledAgentID names the agent that presents enrollment token tokenID
// with the key of csr. Only the holder of both the token's secret and the
// private key (the CSR is signed with it) can present them, so the same
// pair again is the same agent retrying, never another one.
func enrolledAgentID(tokenID string, csr *x509.CertificateRequest) string {
	spki := sha256.Sum256(csr.RawSubjectPublicKeyInfo)
	return uuid.NewSHA1(enrolledAgentNamespace, append([]byte(tokenID+"/"), spki[:]...)).String()
}
