import NextAuth from "next-auth";

// passkeyd as an OpenID Connect provider: these are the settings the
// README's Auth.js row gives, read from the environment.
export const authOptions = {
  providers: [
    {
      id: "passkeyd",
      name: "passkeyd",
      type: "oauth",
      // PASSKEYD_ISSUER is passkeyd's PUBLIC_URL, without a trailing slash.
      wellKnown: `${process.env.PASSKEYD_ISSUER}/.well-known/openid-configuration`,
      authorization: { params: { scope: "openid email profile" } },
      clientId: process.env.PASSKEYD_CLIENT_ID,
      clientSecret: process.env.PASSKEYD_CLIENT_SECRET,
      // passkeyd requires PKCE with S256, which is what Auth.js sends.
      checks: ["pkce", "state"],
      // Take the user from the signed ID token: Auth.js then never calls
      // the userinfo endpoint.
      idToken: true,
      profile(claims) {
        return {
          id: claims.sub,
          email: claims.email,
          name: claims.name ?? claims.preferred_username ?? null,
        };
      },
    },
  ],
};

export default NextAuth(authOptions);
