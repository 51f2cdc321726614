// Package loadresult is the result of a cmd/passkeyd-load run: the JSON
// line it prints last, which bench/summarize reads back.
package loadresult

// Summary is the result of a run, printed as the final JSON line.
type Summary struct {
	Target      string `json:"target"`
	Origin      string `json:"origin"`
	Mode        string `json:"mode"`
	Users       int    `json:"users"`
	Concurrency int    `json:"concurrency"`
	// RegisterConcurrency is phase one's concurrency.
	RegisterConcurrency int   `json:"register_concurrency"`
	Register            Phase `json:"register"`
	// AppFirst is the oidc mode's first app sign-in of every user, with a
	// passkey sign-in and consent; SignIn then holds the app sign-ins
	// that follow (a session, consent remembered).
	AppFirst *Phase `json:"app_first,omitempty"`
	SignIn   Phase  `json:"signin"`
	// App describes the oidc mode's client: its ID and the ID token's
	// algorithm, read from the first ID token's header.
	App *App `json:"app,omitempty"`
	// ServerPID, ServerRSSKB and ServerMaxRSSKB are set with -server-pid:
	// the server's resident memory at the end and its peak (VmHWM),
	// summed over ServerPIDs, the instances, when there are several.
	ServerPID      int   `json:"server_pid,omitempty"`
	ServerPIDs     []int `json:"server_pids,omitempty"`
	ServerRSSKB    int64 `json:"server_rss_kb,omitempty"`
	ServerMaxRSSKB int64 `json:"server_max_rss_kb,omitempty"`
	NumCPU         int   `json:"num_cpu"`
	// ToolProcs is the tool's GOMAXPROCS: its CPU seconds per second of a
	// phase near it mean the tool, not the server, set the pace.
	ToolProcs int `json:"tool_procs"`
}

// Phase describes one phase.
type Phase struct {
	Ceremonies int     `json:"ceremonies"` // completed successfully
	Failed     int     `json:"failed"`
	Seconds    float64 `json:"seconds"`
	PerSecond  float64 `json:"per_second"`
	// Endpoints holds the latency of every request, successful or not.
	Endpoints map[string]Latency `json:"endpoints"`
	// Errors counts failed requests by "endpoint status" ("net" for a
	// transport error, "client" for the authenticator refusing options).
	Errors map[string]int `json:"errors"`
	// ServerCPUSeconds is the server process's user+system CPU during the
	// phase (with -server-pid), ServerCPUPerCeremonyUS that divided by
	// the completed ceremonies.
	ServerCPUSeconds       float64 `json:"server_cpu_seconds,omitempty"`
	ServerCPUPerCeremonyUS float64 `json:"server_cpu_per_ceremony_us,omitempty"`
	// ToolCPUSeconds is this process's own CPU in the phase: on a shared
	// machine, what the load itself took from the server.
	ToolCPUSeconds float64 `json:"tool_cpu_seconds"`
	// MachineCPUSeconds is the CPU busy time of the whole machine in the
	// phase (/proc/stat), and MachineCPUCapacity the CPU seconds it had
	// (wall time × CPUs). What the server and this tool do not account
	// for was taken by other processes: a benchmark on a busy machine.
	MachineCPUSeconds  float64 `json:"machine_cpu_seconds,omitempty"`
	MachineCPUCapacity float64 `json:"machine_cpu_capacity,omitempty"`
}

// Latency is a latency distribution in milliseconds.
type Latency struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
	Mean  float64 `json:"mean_ms"`
}

// App describes the app of an oidc run.
type App struct {
	ClientID string `json:"client_id"`
	// IDTokenAlg is the alg of the first ID token's header (RS256, ES256,
	// EdDSA): the client's id_token_signed_response_alg.
	IDTokenAlg string `json:"id_token_alg"`
	// IDTokensPerSignIn is the ID tokens (signatures) the server made per
	// completed app sign-in of phase two: one for the code, and one more
	// when the refresh answers with an ID token too.
	IDTokensPerSignIn float64 `json:"id_tokens_per_signin"`
}
