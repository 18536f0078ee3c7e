"""An example of your own scenarios (replace it): open-model users get loadgate's arrival rate."""

from scenarios import OpenModelUser


class Shopper(OpenModelUser):
    def send(self, due):
        self.client.get("/api/items?limit=50", headers={"X-API-Key": self.api_key(due)}, name="/api/items")
