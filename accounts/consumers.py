"""Per-user live events: notifications, order updates, balances (filled in by later issues)."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from cryptovault.events import user_group


class UserEventsConsumer(AsyncJsonWebsocketConsumer):
    """Joins the signed-in user's own group and forwards its events; never writes."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close()  # before accept(): the handshake is refused with HTTP 403
            return
        self.group_name = user_group(user.pk)
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()
        await self.send_json({"type": "connected", "payload": {"group": "user"}})

    async def disconnect(self, code):
        if hasattr(self, "group_name"):
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def event_message(self, message):
        await self.send_json({"type": message["event"], "payload": message["payload"]})
