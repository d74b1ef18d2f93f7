#!/bin/sh
gitlab-runner register --non-interactive --url https://gitlab.com/ \
  --registration-token GR1348941Rd4pMkQFlNQyfsSwA3Mj --executor docker --docker-image alpine:3.19
