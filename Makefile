# `sam build` runs this (template.yaml: BuildMethod: makefile, built in place, samconfig.toml):
# the token function for Lambda's arm64, linked against musl with mimalloc as its allocator.
# Why musl: lambda_runtime sets _X_AMZN_TRACE_ID on every invocation, and glibc's setenv never
# frees the value it replaces, so a glibc build grows by ~180 bytes per invocation; musl's frees
# it, and mimalloc keeps the CPU per invocation below the glibc build's (bench/lambda.sh
# measures both). cargo lambda cross-compiles with zig: no musl C toolchain is needed.
TARGET := aarch64-unknown-linux-musl

build-TokenFunction:
	rustup target add $(TARGET)
	cargo lambda build --release --target $(TARGET) --bin token
	cp target/lambda/token/bootstrap $(ARTIFACTS_DIR)/bootstrap

# The Lambda authorizer of the platform's APIs (template.yaml: AuthorizerFunction), built the same way.
build-AuthorizerFunction:
	rustup target add $(TARGET)
	cargo lambda build --release --target $(TARGET) --bin authorizer
	cp target/lambda/authorizer/bootstrap $(ARTIFACTS_DIR)/bootstrap
