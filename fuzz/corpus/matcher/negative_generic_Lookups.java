String apiKey = System.getenv("API_KEY");
String clientSecret = props.getProperty("client.secret");
