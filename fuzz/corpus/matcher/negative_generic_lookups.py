import os

API_KEY = os.environ["API_KEY"]
client_secret = os.getenv("CLIENT_SECRET")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
auth_token = settings.AUTH_TOKEN
api_key = get_api_key()
client = Client(api_key=api_key, client_secret=self.client_secret)
