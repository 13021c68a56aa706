import factory

from accounts.models import User
from cryptovault.actor import Actor


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"trader{n}@example.com")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery-staple")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


# What tests pass to services as the actor when the interface is not the point: an operator's
# command run, as a management command or task would build it.
TEST_ACTOR = Actor.for_command("tests")
