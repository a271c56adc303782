<?php
/*
 * Install, seed and change the tests' WordPress through WordPress's own PHP API.
 *
 *   php seed.php ROOT COMMAND < request.json > answer.json
 *
 * ROOT is the test's private directory (wordpress/ tree, wp-config.php). Commands:
 *   install  {title}                       install WordPress, options, pretty permalinks
 *   seed     {accounts, categories, posts}  remove every post, insert the corpus
 *   theme    {theme}                       switch_theme
 *   mode     {rest: on|refused, sitemaps: on|off}
 *   edit     {slug, title?, content?, modified_gmt}
 *   trash    {slug}
 *   publish  {post}                        insert one more post (same shape as in seed)
 *   state    {}                            every post of every type and status
 * Every command answers with the state (one object per post, keyed by slug).
 */

if ($argc < 3) {
    fwrite(STDERR, "usage: php seed.php ROOT COMMAND < request.json\n");
    exit(2);
}
$root = rtrim($argv[1], '/');
$command = $argv[2];
$request = json_decode(stream_get_contents(STDIN) ?: '{}', true) ?: array();

define('ABSPATH', $root . '/wordpress/');
$home = parse_url(trim(file_get_contents($root . '/home-url')));
$_SERVER['HTTP_HOST'] = $home['host'] . ':' . $home['port'];
$_SERVER['SERVER_NAME'] = $home['host'];
$_SERVER['SERVER_PORT'] = $home['port'];
$_SERVER['REQUEST_METHOD'] = 'GET';
$_SERVER['REQUEST_URI'] = '/';
if ($command === 'install') {
    define('WP_INSTALLING', true);
}

function wp_new_blog_notification($blog_title, $blog_url, $user_id, $password) {
    // No mail from a test install.
}

require ABSPATH . 'wp-load.php';

function fail($message) {
    fwrite(STDERR, $message . "\n");
    exit(1);
}

function post_by_slug($slug) {
    global $wpdb;
    $id = $wpdb->get_var($wpdb->prepare(
        "SELECT ID FROM $wpdb->posts WHERE post_name IN (%s, %s) AND post_type IN ('post', 'page')",
        $slug, $slug . '__trashed'));
    if (!$id) {
        fail("no post with slug $slug");
    }
    return (int) $id;
}

function set_modified($id, $modified_gmt) {
    global $wpdb;
    $wpdb->update($wpdb->posts, array('post_modified' => $modified_gmt,
                                      'post_modified_gmt' => $modified_gmt),
                  array('ID' => $id));
    clean_post_cache($id);
}

function insert_post($post) {
    global $wpdb;
    $user = get_user_by('login', $post['account']);
    $categories = array();
    foreach ($post['categories'] as $name) {
        $term = get_term_by('name', $name, 'category');
        $categories[] = $term->term_id;
    }
    $status = $post['status'] === 'trash' ? 'publish' : $post['status'];
    $id = wp_insert_post(array(
        'post_type' => $post['type'],
        'post_name' => $post['slug'],
        'post_title' => $post['title'],
        'post_content' => $post['content'],
        'post_status' => $status,
        'post_password' => $post['password'],
        'post_author' => $user->ID,
        'post_date' => $post['date_gmt'],
        'post_date_gmt' => $post['date_gmt'],
        'post_category' => $categories,
        'comment_status' => 'open',
    ), true);
    if (is_wp_error($id)) {
        fail('wp_insert_post: ' . $id->get_error_message());
    }
    if ($post['attachment'] !== '') {
        $attachment = wp_insert_attachment(array(
            'post_title' => $post['attachment'],
            'post_name' => 'photo-' . $post['slug'],
            'post_mime_type' => 'image/jpeg',
            'post_status' => 'inherit',
            'post_author' => $user->ID,
            'post_date' => $post['date_gmt'],
            'post_date_gmt' => $post['date_gmt'],
        ), 'photo-' . $post['slug'] . '.jpg', $id);
        // Written straight to the table: updating through WordPress would move the modified date.
        $content = str_replace('{attachment}', get_attachment_link($attachment), $post['content']);
        $wpdb->update($wpdb->posts, array('post_content' => $content), array('ID' => $id));
        clean_post_cache($id);
    }
    foreach ($post['comments'] as $comment) {
        wp_insert_comment(array(
            'comment_post_ID' => $id,
            'comment_author' => $comment['author'],
            'comment_author_email' => 'lecteur@example.org',
            'comment_content' => $comment['content'],
            'comment_approved' => 1,
            'comment_date' => $comment['date_gmt'],
            'comment_date_gmt' => $comment['date_gmt'],
        ));
    }
    if ($post['status'] === 'trash') {
        wp_trash_post($id);
    }
    return $id;
}

function state() {
    global $wpdb;
    $answer = array();
    $rows = $wpdb->get_results(
        "SELECT ID, post_name, post_type, post_status, post_password, post_modified_gmt, post_date_gmt
         FROM $wpdb->posts WHERE post_type IN ('post', 'page', 'attachment') ORDER BY ID");
    foreach ($rows as $row) {
        $slug = preg_replace('/__trashed$/', '', $row->post_name);
        $answer[$slug] = array(
            'id' => (int) $row->ID,
            'type' => $row->post_type,
            'status' => $row->post_status,
            'protected' => $row->post_password !== '',
            'link' => get_permalink((int) $row->ID),
            'date_gmt' => $row->post_date_gmt,
            'modified_gmt' => $row->post_modified_gmt,
        );
    }
    return $answer;
}

switch ($command) {
    case 'install':
        require_once ABSPATH . 'wp-admin/includes/upgrade.php';
        $installed = wp_install($request['title'], 'admin', 'admin@example.org', true, '',
                                wp_generate_password(24));
        update_option('blogdescription', 'Le journal citoyen du continent');
        update_option('timezone_string', 'Africa/Dakar');
        update_option('thread_comments', 1);
        update_option('page_comments', 0);
        update_option('comment_moderation', 0);
        update_option('comment_previously_approved', 0);
        update_option('uploads_use_yearmonth_folders', 1);
        update_option('permalink_structure', '/%year%/%monthnum%/%day%/%postname%/');
        update_option('archive_test_rest', 'on');
        update_option('archive_test_sitemaps', 'on');
        flush_rewrite_rules(false);
        break;
    case 'seed':
        wp_set_current_user(1);
        foreach ($wpdb->get_col("SELECT ID FROM $wpdb->posts") as $id) {
            wp_delete_post((int) $id, true);
        }
        foreach ($request['accounts'] as $account) {
            if (!get_user_by('login', $account['login'])) {
                $user = wp_insert_user(array(
                    'user_login' => $account['login'],
                    'user_pass' => wp_generate_password(24),
                    'user_email' => $account['login'] . '@example.org',
                    'display_name' => $account['name'],
                    'nickname' => $account['name'],
                    'role' => 'author',
                ));
                if (is_wp_error($user)) {
                    fail('wp_insert_user: ' . $user->get_error_message());
                }
            }
        }
        foreach ($request['categories'] as $name) {
            if (!get_term_by('name', $name, 'category')) {
                wp_insert_term($name, 'category');
            }
        }
        foreach ($request['posts'] as $post) {
            insert_post($post);
        }
        break;
    case 'theme':
        switch_theme($request['theme']);
        if (get_stylesheet() !== $request['theme']) {
            fail('theme not available: ' . $request['theme']);
        }
        break;
    case 'mode':
        update_option('archive_test_rest', $request['rest']);
        update_option('archive_test_sitemaps', $request['sitemaps']);
        break;
    case 'edit':
        wp_set_current_user(1);
        $id = post_by_slug($request['slug']);
        $changes = array('ID' => $id);
        if (isset($request['title'])) {
            $changes['post_title'] = $request['title'];
        }
        if (isset($request['content'])) {
            $changes['post_content'] = $request['content'];
        }
        $updated = wp_update_post($changes, true);
        if (is_wp_error($updated)) {
            fail('wp_update_post: ' . $updated->get_error_message());
        }
        set_modified($id, $request['modified_gmt']);
        break;
    case 'trash':
        wp_set_current_user(1);
        if (!wp_trash_post(post_by_slug($request['slug']))) {
            fail('wp_trash_post failed for ' . $request['slug']);
        }
        break;
    case 'publish':
        wp_set_current_user(1);
        insert_post($request['post']);
        break;
    case 'state':
        break;
    default:
        fail("unknown command $command");
}
echo json_encode(state(), JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
