API_KEY = "test-api-key-0001"
client_secret = "mock_client_secret_value"
auth_token = "invalid-token-for-tests"
SECRET_KEY = "django-insecure-test-only-key"
