package oidc

// NewOpCrypto is newOpCrypto, for opcrypto_test.go.
var NewOpCrypto = newOpCrypto
