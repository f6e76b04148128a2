// The console's shell: header and navigation, the route table, and the guards (signed in; staff).
import type { Child } from 'hono/jsx';
import { useSessionVersion } from './lib/hooks';
import { href, type Route, refresh, replace, startRouter, useView, ViewContext } from './lib/router';
import { session, signOut, subscribe } from './lib/session';
import { SignInPage, SignUpPage } from './pages/auth';
import { CatalogPage } from './pages/catalog';
import { DashboardPage } from './pages/dashboard';
import { MachinePage, MachinesPage } from './pages/machines';
import { OrdersPage } from './pages/orders';
import { PaymentsPage } from './pages/payments';
import { ProductsPage } from './pages/products';
import { ProfilePage } from './pages/profile';
import { WebhooksPage } from './pages/webhooks';
import { PageTitle } from './components/ui';

interface Page {
  path: string;
  label: string;
  staff?: boolean;
  render: (route: Route) => Child;
}

const PAGES: Page[] = [
  { path: '/exams', label: 'Exams', render: (r) => <CatalogPage kind="exams" route={r} /> },
  { path: '/courses', label: 'Courses', render: (r) => <CatalogPage kind="courses" route={r} /> },
  { path: '/payments', label: 'My payments', render: (r) => <PaymentsPage route={r} /> },
  { path: '/profile', label: 'Profile', render: (r) => <ProfilePage route={r} /> },
  { path: '/machines', label: 'Machines', render: (r) => <MachinesPage route={r} /> },
  { path: '/webhooks', label: 'Webhooks', render: () => <WebhooksPage /> },
  { path: '/staff/sales', label: 'Sales', staff: true, render: (r) => <DashboardPage route={r} /> },
  { path: '/staff/products', label: 'Products', staff: true, render: (r) => <ProductsPage route={r} /> },
  { path: '/staff/orders', label: 'Orders', staff: true, render: (r) => <OrdersPage route={r} /> },
];

const PUBLIC: Record<string, () => Child> = { '/signin': () => <SignInPage />, '/signup': () => <SignUpPage /> };

function Header({ path }: { path: string }) {
  const user = session()?.user;
  const links = PAGES.filter((p) => !p.staff || user?.is_staff);
  return (
    <header class="top">
      <a class="brand" href={user ? '#/exams' : '#/signin'}>
        Edge console
      </a>
      {user && (
        <>
          <nav aria-label="Main">
            <ul>
              {links.map((p) => (
                <li key={p.path} class={p.staff ? 'staff' : ''}>
                  <a href={`#${p.path}`} aria-current={path.startsWith(p.path) ? 'page' : undefined}>
                    {p.label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <div class="who">
            <span>{user.name ?? user.email ?? user.username ?? user.phone}</span>
            <button type="button" onClick={() => void signOut().then(() => replace('/signin'))}>
              Sign out
            </button>
          </div>
        </>
      )}
    </header>
  );
}

/**
 * Where a route must go instead, decided before anything renders: signed out, every private page
 * goes to the sign-in page (remembering the page asked for in `?next=`); signed in, the public pages
 * and `/` go on to that page, or to the exams.
 */
function redirect(route: Route): string | null {
  const signedIn = !!session()?.user;
  const isPublic = Object.hasOwn(PUBLIC, route.path);
  if (!signedIn) {
    if (isPublic) return null;
    const qs = route.query.toString();
    return href('/signin', { next: route.path === '/' ? null : `${route.path}${qs ? `?${qs}` : ''}` });
  }
  if (!isPublic && route.path !== '/') return null;
  const next = route.query.get('next');
  return next?.startsWith('/') && !Object.hasOwn(PUBLIC, next.split('?')[0]!) ? `#${next}` : href('/exams');
}

/** The page of a route; redirect() has already sent every route that needs it elsewhere. */
function Main({ route }: { route: Route }) {
  const user = session()?.user;
  const publicPage = Object.hasOwn(PUBLIC, route.path) ? PUBLIC[route.path] : undefined;
  if (!user || publicPage) return publicPage ? publicPage() : null;
  const machine = route.path.match(/^\/machines\/(\d+)$/);
  if (machine) return <MachinePage id={Number(machine[1])} route={route} />;
  const page = PAGES.find((p) => p.path === route.path);
  if (!page) return <NotFound />;
  // The API refuses staff routes to everyone else anyway (403); this only spares a useless page.
  if (page.staff && !user.is_staff) return <StaffOnly />;
  return page.render(route);
}

function NotFound() {
  return (
    <section>
      <PageTitle>Page not found</PageTitle>
      <p>
        <a href="#/exams">Go to the exams</a>
      </p>
    </section>
  );
}

function StaffOnly() {
  return (
    <section>
      <PageTitle>Staff only</PageTitle>
      <p>This page is for staff accounts.</p>
    </section>
  );
}

// Signing in or out changes where the current route must go.
startRouter(redirect);
subscribe(refresh);

export function App() {
  useSessionVersion();
  const { id, route } = useView();
  return (
    <>
      {/* biome-ignore lint/a11y/useValidAnchor: a skip link; the click only moves focus, as "#main" would change the hash route */}
      <a
        class="skip"
        href="#main"
        onClick={(e: Event) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <Header path={route.path} />
      <main id="main" tabindex={-1}>
        {/* A DOM element per view: whatever a left page still renders lands in its detached element. */}
        <div key={id} class="view">
          <ViewContext.Provider value={id}>
            <Main route={route} />
          </ViewContext.Provider>
        </div>
      </main>
    </>
  );
}
