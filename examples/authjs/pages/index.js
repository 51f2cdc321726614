import { getServerSession } from "next-auth/next";
import { signIn, signOut } from "next-auth/react";
import { authOptions } from "./api/auth/[...nextauth]";

export async function getServerSideProps({ req, res }) {
  const session = await getServerSession(req, res, authOptions);
  return { props: { email: session?.user?.email ?? null } };
}

export default function Home({ email }) {
  if (!email) {
    return (
      <main>
        <p id="signed-out">You are signed out.</p>
        <button id="sign-in" onClick={() => signIn("passkeyd")}>
          Sign in
        </button>
      </main>
    );
  }
  return (
    <main>
      <p>
        Signed in as <span id="email">{email}</span>
      </p>
      <button id="sign-out" onClick={() => signOut()}>
        Sign out
      </button>
    </main>
  );
}
