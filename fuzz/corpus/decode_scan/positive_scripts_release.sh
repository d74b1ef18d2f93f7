#!/bin/sh
set -e
echo "dckr_pat_79lexwOVdWGewSJb1qkkIS7aV9J" | docker login -u acmebot --password-stdin
docker push acme/api:"$VERSION"
git push https://oauth2:glpat-ENvI7WybOKJVSke5qX8k@gitlab.com/acme/api.git "v$VERSION"
doctl auth init --access-token dop_v1_9932634bdbd03a7827fb5fe2e28e9ebd89c944a70525086a8abc1ce22562f7bb
curl -X POST -H 'Content-type: application/json' \
  --data '{"text":"released '"$VERSION"'"}' https://hooks.slack.com/services/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
