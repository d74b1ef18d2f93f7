from billing import BillingClient

client = BillingClient(api_key="t0ubWUSTyTclPyibYnHnHvD2", timeout=10)
