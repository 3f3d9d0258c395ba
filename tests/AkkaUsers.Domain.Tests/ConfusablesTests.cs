using AkkaUsers.Domain;

namespace AkkaUsers.Domain.Tests;

/// <summary>The UTS #39 skeleton from the compiled-in confusables data, and the username skeleton key built on it.</summary>
public class ConfusablesTests
{
    [Fact]
    public void Every_mapping_of_the_data_is_loaded()
    {
        Assert.Equal(6565, Confusables.Count);
    }

    [Theory]
    [InlineData("root-admin", "root-\u0430dmin")] // Cyrillic а
    [InlineData("paypal", "p\u0430yp\u0430l")] // Cyrillic а twice
    [InlineData("apple", "\u0430\u0440\u0440\u04cf\u0435")] // Cyrillic а, р, р, ӏ, е
    [InlineData("modern", "rnodern")] // m and rn
    [InlineData("ball", "ba1l")] // digit one and l
    [InlineData("ball", "baIl")] // capital I and l
    [InlineData("google", "g\u03bf\u03bfgle")] // Greek omicron
    [InlineData("scope", "\u0455\u0441\u043e\u0440\u0435")] // Cyrillic ѕ, с, о, р, е
    [InlineData("o0", "oO")] // digit zero and capital O
    [InlineData("x-y", "x\u2010y")] // hyphen and hyphen-minus
    public void Look_alike_strings_have_one_skeleton(string text, string lookAlike)
    {
        Assert.Equal(Confusables.Skeleton(text), Confusables.Skeleton(lookAlike));
    }

    [Theory]
    [InlineData("root-admin", "root-admins")]
    [InlineData("alice", "bob")]
    [InlineData("j\u00f6rg", "jorg")] // a diaeresis is not a look-alike of nothing
    public void Different_strings_keep_different_skeletons(string text, string other)
    {
        Assert.NotEqual(Confusables.Skeleton(text), Confusables.Skeleton(other));
    }

    [Fact]
    public void The_skeleton_is_stable_once_taken()
    {
        foreach (var text in new[] { "root-\u0430dmin", "modern", "\u00c5ngstr\u00f6m", "\u5c71\u7530" })
            Assert.Equal(Confusables.Skeleton(text), Confusables.Skeleton(Confusables.Skeleton(text)));
    }

    [Fact]
    public void The_username_skeleton_key_is_the_skeleton_of_the_username_key_and_never_a_username_key()
    {
        var key = Keys.UsernameSkeleton("  ROOT-\u0410DMIN ");

        Assert.Equal(Keys.SkeletonKeyPrefix + Confusables.Skeleton("root-admin"), key);
        Assert.Equal(Keys.UsernameSkeleton("root-admin"), key);
        Assert.Equal(Keys.UsernameSkeleton("\uff52\uff4f\uff4f\uff54-admin"), key); // fullwidth letters, through NFKC
        Assert.NotNull(Validation.Username(key)); // a skeleton key holds a control character: no username has it as key
        Assert.NotEqual(Keys.Username("root-admin"), key);
    }

    [Fact]
    public void A_user_holds_its_username_key_and_its_skeleton_key_in_the_username_index()
    {
        var user = new UserProfile("507f1f77bcf86cd799439011", "Root-Admin", false, "root@example.com", ["user"], "free", null, null, DateTimeOffset.UnixEpoch);

        Assert.Equal(["root-admin", Keys.UsernameSkeleton("root-admin")], Keys.HeldBy(ClaimKind.Username, user));
        Assert.Equal(["root@example.com"], Keys.HeldBy(ClaimKind.Email, user));
    }
}
