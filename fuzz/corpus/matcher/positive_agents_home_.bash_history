ls -la
export GITHUB_TOKEN=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
gh pr list
