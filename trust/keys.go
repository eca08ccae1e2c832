package trust

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// keySigner is a note signer that knows its verifier key.
type keySigner struct {
	note.Signer
	vkey string
}

// GenerateKey makes a new Ed25519 note key named name (the log's origin,
// for example "lodestone.example.com/log"): the signer key to keep secret
// and the verifier key to publish, both in C2SP signed-note form.
func GenerateKey(name string) (skey, vkey string, err error) {
	if err := checkKeyName(name); err != nil {
		return "", "", err
	}
	return note.GenerateKey(rand.Reader, name)
}

func checkKeyName(name string) error {
	if name == "" || strings.ContainsAny(name, "+ \t\n") {
		return fmt.Errorf("key name %q: must be non-empty without '+' or spaces", name)
	}
	return nil
}

// NewSigner parses a signer key ("PRIVATE+KEY+name+hash+key") made by
// GenerateKey.
func NewSigner(skey string) (note.Signer, error) {
	skey = strings.TrimSpace(skey)
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("trust: signer key: %w", err)
	}
	// PRIVATE+KEY+<name>+<hash>+<base64(alg || seed)>
	parts := strings.SplitN(skey, "+", 5)
	raw, err := base64.StdEncoding.DecodeString(parts[len(parts)-1])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return nil, errors.New("trust: signer key: not an Ed25519 key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(s.Name(), pub)
	if err != nil {
		return nil, fmt.Errorf("trust: signer key: %w", err)
	}
	return &keySigner{Signer: s, vkey: vkey}, nil
}

// LoadSigner reads a signer key file written by `lodestone trust keygen`.
// The file must not be readable by others: it is the log's private key.
func LoadSigner(path string) (note.Signer, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("trust: log key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("trust: log key %s: readable by group or others (mode %v); chmod 600 it", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("trust: log key: %w", err)
	}
	return NewSigner(string(b))
}

// ReadVKey reads a verifier key file (one vkey line).
func ReadVKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("trust: verifier key: %w", err)
	}
	v := strings.TrimSpace(string(b))
	if _, err := note.NewVerifier(v); err != nil {
		return "", fmt.Errorf("trust: verifier key %s: %w", path, err)
	}
	return v, nil
}
