const clientSecret = process.env.CLIENT_SECRET;
const apiSecret = config.apiSecret;
headers["X-Auth-Token"] = await vault.read("auth");
this.webhookSecret = webhookSecret;
