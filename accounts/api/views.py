from drf_spectacular.utils import extend_schema
from rest_framework.generics import RetrieveAPIView

from accounts.api.serializers import CurrentUserSerializer


@extend_schema(summary="The signed-in user", tags=["accounts"])
class CurrentUserView(RetrieveAPIView):
    """Who the API thinks you are: a quick check that authentication works."""

    serializer_class = CurrentUserSerializer

    def get_object(self):
        return self.request.user
