package auth

var cfg = oauth2.Config{
	ClientID:     "cli",
	ClientSecret: "Sz79s1Po-w-awlDv3YsAi6A*",
	Scopes:       []string{"repo"},
}
