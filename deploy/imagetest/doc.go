// Package imagetest holds tests of the passkeyd container image that
// scripts/image builds, of the compose files in deploy/ and of the release
// archives scripts/release builds. It has no code besides its tests.
//
// The image tests read the image archives (docker-archive, as
// `podman load` and `docker load` take them) in the directory named by
// PASSKEYD_TEST_IMAGE_DIR, which scripts/test fills with scripts/image
// (linux/amd64 and linux/arm64). They check each image from outside: its
// configuration (a numeric non-root user, the /data volume, port 8080 on
// all interfaces, the OCI labels, the HEALTHCHECK, the entrypoint), its
// size, that it holds the binary and the CA certificates and nothing else
// (no shell), and that the arm64 binary is built for arm64.
//
// TestImageRuns runs the amd64 image without a container runtime: it
// unpacks the image's root file system and starts its entrypoint with the
// image's environment in fresh mount, PID, IPC and UTS namespaces
// (unshare), as the image's user (chroot --userspec), with the root file
// system read-only and only /data writable; it shares the host's network,
// on a free port. Then it signs up and signs in with softauthn, and runs
// the image's HEALTHCHECK command from the same root. It needs root (to
// mount and chroot).
//
// TestRelease runs scripts/release for linux/amd64 and linux/arm64 (only a
// link each, after scripts/image's builds) and checks the archives, their
// SHA256SUMS, and that each release binary is byte for byte the image's.
//
// Without PASSKEYD_TEST_IMAGE_DIR, or without root for TestImageRuns, the
// tests skip, except under CI=true, where they fail. TestComposeFiles
// checks deploy/compose*.yaml with docker-compose config (Debian's
// docker-compose, which validates against the Compose schema without a
// daemon), or the tool PASSKEYD_TEST_COMPOSE names.
//
//	scripts/image -out /tmp/img && PASSKEYD_TEST_IMAGE_DIR=/tmp/img go test ./deploy/imagetest -v
package imagetest
