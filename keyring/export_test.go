package keyring

// ProbeCapabilities is the pre-5.3 probing of KernelCapabilities, for
// tests that compare it with the kernel's own answer.
var ProbeCapabilities = probeCapabilities
